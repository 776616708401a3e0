//! `apiforge scaffold` and `apiforge design` through the real binary: every source of
//! a design (prompt with each provider, design file, template, OpenAPI document), the
//! files written, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use crate::fake_openai;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use support::apiforge;

fn run(home: &Path, args: &[&str]) -> Output {
    apiforge(home).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON: {e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_prompt_becomes_a_complete_fastapi_project() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("bakery");
    let report = json(&run(
        home.path(),
        &[
            "scaffold",
            "a bakery API: products with name, price, stock; orders with status (pending, baking, ready) for a product",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(report["framework"], "fastapi");
    assert_eq!(report["resources"], serde_json::json!(["product", "order"]));
    let files: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    for expected in [
        "apiforge.json",
        "openapi.json",
        "openapi.yaml",
        "main.py",
        "requirements.txt",
        "README.md",
        ".gitignore",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} missing from {files:?}"
        );
        assert!(out.join(expected).is_file(), "{expected} not written");
    }
    assert!(
        files.iter().any(|f| f.starts_with("tests/")),
        "no tests written: {files:?}"
    );
    // Every listed file exists and nothing else was written.
    let mut on_disk = Vec::new();
    collect(&out, &out, &mut on_disk);
    on_disk.sort();
    assert_eq!(on_disk, files);

    let design = read_json(&out.join("apiforge.json"));
    let order = design["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "order")
        .unwrap();
    let status = order["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "status")
        .unwrap();
    assert_eq!(
        status["enum_values"],
        serde_json::json!(["pending", "baking", "ready"])
    );
    assert_eq!(order["relations"][0]["target"], "product");
    let spec = read_json(&out.join("openapi.json"));
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/orders/{id}"].is_object());
    apiforge::codegen::spec_check::check(&spec).expect("the written spec is valid OpenAPI 3.1");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

#[test]
fn scaffolding_is_deterministic_across_sources() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("a");
    let b = home.path().join("b");
    json(&run(
        home.path(),
        &[
            "scaffold",
            "--template",
            "shop",
            "--framework",
            "express",
            "--out",
            a.to_str().unwrap(),
            "--json",
        ],
    ));
    // The design file it wrote reproduces the same project byte for byte.
    json(&run(
        home.path(),
        &[
            "scaffold",
            "--design",
            a.join("apiforge.json").to_str().unwrap(),
            "--framework",
            "express",
            "--out",
            b.to_str().unwrap(),
            "--json",
        ],
    ));
    let mut files = Vec::new();
    collect(&a, &a, &mut files);
    assert!(files.iter().any(|f| f == "server.js"));
    for f in &files {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn an_openapi_document_can_seed_a_project() {
    let home = tempfile::tempdir().unwrap();
    let first = home.path().join("first");
    json(&run(
        home.path(),
        &[
            "scaffold",
            "--template",
            "bookings",
            "--out",
            first.to_str().unwrap(),
            "--json",
        ],
    ));
    let second = home.path().join("second");
    let report = json(&run(
        home.path(),
        &[
            "scaffold",
            "--from-spec",
            first.join("openapi.yaml").to_str().unwrap(),
            "--out",
            second.to_str().unwrap(),
            "--json",
        ],
    ));
    let original = read_json(&first.join("apiforge.json"));
    let imported = read_json(&second.join("apiforge.json"));
    let names = |d: &Value| {
        d["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&original), names(&imported));
    assert!(report["warnings"].is_array());
}

#[test]
fn bad_input_is_refused_with_exit_2_and_nothing_written() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("x");
    for (args, words) in [
        (vec!["scaffold", "hello", "--out"], "no resources"),
        (vec!["scaffold", "", "--out"], ""),
        (
            vec![
                "scaffold",
                "a todo api with tasks",
                "--framework",
                "rails",
                "--out",
            ],
            "unknown framework",
        ),
        (
            vec!["scaffold", "--template", "nope", "--out"],
            "choose one of",
        ),
        (
            vec![
                "scaffold",
                "a todo api with tasks",
                "--provider",
                "magic",
                "--out",
            ],
            "unknown provider",
        ),
    ] {
        let mut args: Vec<&str> = args;
        args.push(out.to_str().unwrap());
        let o = run(home.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(words), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote files");
    }
    let garbage = home.path().join("garbage.yaml");
    std::fs::write(&garbage, [0xff_u8, 0xfe, 0x00, 0x01]).unwrap();
    let o = run(
        home.path(),
        &[
            "scaffold",
            "--from-spec",
            garbage.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let broken = home.path().join("broken.json");
    std::fs::write(&broken, r#"{"schema_version": 1, "title": "X", "resources": [{"name": "Bad Name", "plural": "x", "fields": []}]}"#).unwrap();
    let o = run(
        home.path(),
        &[
            "scaffold",
            "--design",
            broken.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("snake_case") || stderr(&o).contains("Bad Name"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_non_empty_directory_needs_force() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("todo");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = run(
        home.path(),
        &[
            "scaffold",
            "--template",
            "todo",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(!out.join("main.py").exists());
    json(&run(
        home.path(),
        &[
            "scaffold",
            "--template",
            "todo",
            "--out",
            out.to_str().unwrap(),
            "--force",
            "--json",
        ],
    ));
    assert!(out.join("main.py").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine",
        "unrelated files are kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openai_provider_is_wired_into_design_and_scaffold() {
    let design = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/templates/todo.json"
    ))
    .unwrap();
    let server = fake_openai::FakeOpenAi::scripted(vec![
        fake_openai::Step::reply("{\"not\": \"a design\"}"),
        fake_openai::Step::reply(design.clone()),
        fake_openai::Step::reply(design),
    ])
    .await;
    let home = tempfile::tempdir().unwrap();
    let base = server.base_url();
    let out = home.path().join("llm");
    let h = home.path().to_path_buf();
    let (designed, scaffolded) = tokio::task::spawn_blocking(move || {
        let with_llm = |args: &[&str]| {
            apiforge(&h)
                .env("APIFORGE_PROVIDER_OPENAI_BASE_URL", &base)
                .env("APIFORGE_PROVIDER_OPENAI_STREAM", "false")
                .args(args)
                .output()
                .unwrap()
        };
        let designed = with_llm(&["design", "a todo list", "--provider", "openai", "--json"]);
        let scaffolded = with_llm(&[
            "scaffold",
            "a todo list",
            "--provider",
            "openai",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]);
        (designed, scaffolded)
    })
    .await
    .unwrap();
    let d = json(&designed)["design"].clone();
    assert!(
        d["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "task"),
        "{d}"
    );
    json(&scaffolded);
    // The invalid first answer was sent back for repair with what was wrong.
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert!(
        received[1].messages().len() > received[0].messages().len(),
        "the second call should carry the repair request"
    );
}

#[test]
fn design_applies_follow_ups_to_a_base_file() {
    let home = tempfile::tempdir().unwrap();
    let first = json(&run(
        home.path(),
        &["design", "Books with title and author", "--json"],
    ))["design"]
        .clone();
    let base = home.path().join("apiforge.json");
    std::fs::write(&base, serde_json::to_string_pretty(&first).unwrap()).unwrap();
    let next = json(&run(
        home.path(),
        &[
            "design",
            "add a published year to books",
            "--base",
            base.to_str().unwrap(),
            "--json",
        ],
    ))["design"]
        .clone();
    let book = next["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "book")
        .unwrap();
    let fields: Vec<&str> = book["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"published_year"), "{fields:?}");
    assert!(fields.contains(&"title"), "{fields:?}");
    let summary = run(
        home.path(),
        &["design", "a todo API with tasks (title, done flag)"],
    );
    assert!(summary.status.success());
    assert!(
        String::from_utf8_lossy(&summary.stdout).contains("task"),
        "{}",
        String::from_utf8_lossy(&summary.stdout)
    );
}
