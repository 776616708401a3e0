//! The integration suite, one test binary: every file here is a module, so the whole
//! suite links once (35 binaries, each linking every dependency, filled CI's disk).
//! Only `pipeline_cancel` (it inspects every sandboxed process) and `openai_logs` (it
//! captures tracing output, which other tests' threads disturb) keep their own binary.

#[path = "../support/expect.rs"]
mod expect;
#[path = "../support/fake_openai.rs"]
mod fake_openai;
#[path = "../support/openai_harness.rs"]
mod openai_harness;
#[path = "../support/mod.rs"]
mod support;
#[path = "../sandbox_support/harness.rs"]
#[macro_use]
mod harness;
#[path = "../versions_support/draft.rs"]
mod draft;

mod architecture;
mod check_projects;
mod closed_stdout;
mod completions_cli;
mod config_errors;
mod db_cluster;
mod db_migrations;
mod db_rls;
mod deploy_cli;
mod deploy_docker;
mod deploy_image;
mod design_cli;
mod design_diff;
mod design_props;
mod design_validate;
mod engine;
mod export_cli;
mod express_projects;
mod fastapi_projects;
mod fixture_projects;
mod openai_provider;
mod pipeline_cli;
mod pipeline_iterate;
mod pipeline_project_status;
mod pipeline_resume;
mod pipeline_review;
mod rules_corpus;
mod rules_examples;
mod rules_followups;
mod rules_phrasings;
mod rules_props;
mod runtimes_python;
mod sandbox_cli;
mod sandbox_containment;
mod sandbox_server;
mod scaffold_cli;
mod schemathesis_fixtures;
mod spec_build;
mod spec_check;
mod spec_import;
mod spec_templates;
mod tui_deployment;
mod tui_e2e;
mod tui_editor;
mod tui_flow;
mod tui_preview;
mod verify_contract;
mod verify_native;
mod versions_rls;
mod versions_store;
