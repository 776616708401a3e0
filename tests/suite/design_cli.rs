//! `apiforge design` as a person runs it: the real binary, a private APIFORGE_HOME.

use std::process::{Command, Output};

use apiforge::design::{ApiDesign, validate};

fn apiforge(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apiforge"))
        .args(args)
        .env("APIFORGE_HOME", home)
        .env_remove("DATABASE_URL")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_output_is_a_valid_design() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--json",
            "Bookstore API with books (title, isbn unique, price) and publishers (name). Each book belongs to a publisher.",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON");
    assert_eq!(out["warnings"], serde_json::json!([]), "{out}");
    let d: ApiDesign = serde_json::from_value(out["design"].clone()).expect("a design");
    validate(&d).expect("valid");
    assert_eq!(d.title, "Bookstore API");
    assert!(
        d.resource("book")
            .and_then(|b| b.relation_to("publisher"))
            .is_some()
    );
}

#[test]
fn summary_lists_resources_fields_relations_and_filters() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "tasks with a title, a priority (low, high) and a due date; tasks belong to projects; secured with an API key",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for needle in [
        "task (/tasks)",
        "priority",
        "enum (low, high)",
        "due_date",
        "date",
        "project_id",
        "-> project",
        "filters: priority, project_id",
        "auth: API key in header X-API-Key",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
}

#[test]
fn base_applies_a_followup() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &["design", "--json", "Books with title and author"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let file = home.path().join("apiforge.json");
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    std::fs::write(&file, out["design"].to_string()).expect("writes");
    let base = file.to_str().expect("utf-8 path");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--json",
            "--base",
            base,
            "add a published year to books",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let d: ApiDesign = serde_json::from_value(out["design"].clone()).expect("a design");
    assert!(
        d.resource("book")
            .and_then(|b| b.field("published_year"))
            .is_some()
    );
}

#[test]
fn bad_base_files_exit_2_with_the_problems() {
    let home = tempfile::tempdir().expect("temp dir");
    let broken = home.path().join("broken.json");
    std::fs::write(&broken, "{not json").expect("writes");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--base",
            broken.to_str().expect("utf-8"),
            "add a year to books",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a valid design file"),
        "{}",
        stderr(&o)
    );

    let invalid = home.path().join("invalid.json");
    std::fs::write(&invalid, r#"{"schema_version": 1, "title": "X", "resources": [{"name": "Book", "plural": "books", "fields": [{"name": "price", "type": "integer", "min": 5, "max": 1}]}]}"#).expect("writes");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--base",
            invalid.to_str().expect("utf-8"),
            "add a year to books",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("not a valid design")
            && err.contains("snake_case")
            && err.contains("min 5 greater than max 1"),
        "{err}"
    );
}

#[test]
fn unusable_prompts_and_providers_exit_2() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(home.path(), &["design", "hello"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("for example"), "{}", stderr(&o));
    let o = apiforge(
        home.path(),
        &["design", "--provider", "openai", "books with title"],
    );
    // No key for the hosted endpoint: a configuration problem that says what to set.
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("OPENAI_API_KEY"), "{}", stderr(&o));
    let o = apiforge(
        home.path(),
        &["design", "--provider", "magic", "books with title"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown provider"), "{}", stderr(&o));
}

#[test]
fn the_review_prints_the_tree_and_its_warnings() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "an inventory API: warehouses with a name and a location, and items that belong to warehouses with sku, quantity and the date they were last restocked",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn strict_fails_on_warnings_after_printing_them() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--strict",
            "tasks with a title and a status (open)",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("status               enum (open)")
            && out.contains("1 warning:")
            && out.contains("single value \"open\""),
        "{out}"
    );
    assert!(stderr(&o).contains("--strict"), "{}", stderr(&o));

    let o = apiforge(
        home.path(),
        &[
            "design",
            "--strict",
            "tasks with a title and a status (open, done)",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("no warnings\n"), "{}", stdout(&o));
}

#[test]
fn json_warnings_have_kind_path_and_message() {
    let home = tempfile::tempdir().expect("temp dir");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--json",
            "--strict",
            "tasks with a title and a status (open). Make it blazing fast.",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let warnings = out["warnings"].as_array().expect("a list");
    let kinds: Vec<&str> = warnings
        .iter()
        .map(|w| w["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["single_value_enum", "unused_word", "unused_word"],
        "{out}"
    );
    assert_eq!(warnings[0]["path"], "resources.task.fields.status");
    assert_eq!(warnings[1]["word"], "blazing");
    assert!(
        warnings
            .iter()
            .all(|w| !w["message"].as_str().expect("message").is_empty())
    );
    assert!(out["design"]["resources"].is_array());
}

#[test]
fn design_file_errors_name_their_json_path() {
    let home = tempfile::tempdir().expect("temp dir");
    let file = home.path().join("apiforge.json");
    std::fs::write(
        &file,
        r#"{"schema_version": 1, "title": "X", "resources": [{"name": "book", "plural": "books", "fields": [{"name": "title", "type": "string"}]}, {"name": "tag", "plural": "tags", "fields": [{"name": "label", "type": "strng"}]}]}"#,
    )
    .expect("writes");
    let o = apiforge(
        home.path(),
        &[
            "design",
            "--base",
            file.to_str().expect("utf-8"),
            "add a year to books",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("resources[1].fields[0].type: unknown variant `strng`"),
        "{}",
        stderr(&o)
    );
}
