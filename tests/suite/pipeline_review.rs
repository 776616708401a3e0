//! The design review in the pipeline, through the real binary on an embedded cluster:
//! `new` shows the design and its warnings before the code step, `--strict` refuses
//! without leaving anything behind, and `iterate --design FILE` builds a version from
//! an edited design (validated first, errors with their JSON path).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use serde_json::Value;
use support::ApiforgeHome;

fn projects(home: &ApiforgeHome) -> usize {
    home.json(&["projects", "--json"]).as_array().unwrap().len()
}

fn versions(home: &ApiforgeHome, slug: &str) -> Vec<Value> {
    home.json(&["versions", slug, "--json"])
        .as_array()
        .unwrap()
        .clone()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn new_shows_the_review_and_strict_refuses_before_creating_anything() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);

    // A single-value enum is a warning: --strict prints the design and exits 1, and
    // no project exists afterwards.
    let refused = home.run(&[
        "new",
        "--strict",
        "--json",
        "books with a title and a status (draft)",
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let out: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(out["warnings"][0]["kind"], "single_value_enum", "{out}");
    assert_eq!(projects(&home), 0, "a strict refusal left a project behind");

    // Without --strict the same prompt builds; the design step shows the tree and the
    // warning before the code step.
    let built = home.run(&[
        "new",
        "books with a title and a status (draft)",
        "--name",
        "library",
    ]);
    let stdout = text(&built.stdout);
    assert!(built.status.success(), "{stdout}{}", text(&built.stderr));
    let tree = stdout.find("design: read 1 resource").expect(&stdout);
    let warned = stdout
        .find("status               enum (draft)")
        .expect(&stdout);
    let warning = stdout
        .find("design: ⚠ book.status is an enum with the single value")
        .expect(&stdout);
    let code = stdout.find("✓ code").expect(&stdout);
    assert!(
        tree < warned && warned < warning && warning < code,
        "{stdout}"
    );

    // A clean strict run builds exactly the design it reviewed.
    let clean = home.json(&["new", "--strict", "--json", "notes with a title and a body"]);
    assert_eq!(clean["state"], "succeeded", "{clean}");
    assert!(clean.get("warnings").is_none(), "{clean}");
    assert_eq!(projects(&home), 2);
}

#[test]
fn iterate_builds_a_version_from_an_edited_design_file() {
    let home = ApiforgeHome::new();
    home.json(&["runtimes", "install", "--json"]);
    let first = home.json(&[
        "new",
        "Books with title and author",
        "--name",
        "shelf",
        "--json",
    ]);
    assert_eq!(first["output"]["version"], 1, "{first}");
    let design: Value =
        serde_json::from_slice(&home.run(&["files", "shelf", "apiforge.json"]).stdout).unwrap();
    let file = home.path().join("edited.json");

    // Unchanged: nothing to build.
    std::fs::write(&file, serde_json::to_string_pretty(&design).unwrap()).unwrap();
    let same = home.run(&["iterate", "shelf", "--design", file.to_str().unwrap()]);
    assert_eq!(same.status.code(), Some(2));
    assert!(
        text(&same.stderr).contains("the same as v1"),
        "{}",
        text(&same.stderr)
    );

    // A wrong type: exit 2 with the JSON path, and no version.
    let mut broken = design.clone();
    broken["resources"][0]["fields"][1]["type"] = "strng".into();
    std::fs::write(&file, broken.to_string()).unwrap();
    let refused = home.run(&["iterate", "shelf", "--design", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let err = text(&refused.stderr);
    assert!(err.contains("resources[0].fields[1].type"), "{err}");

    // A design that parses but is invalid: every problem with its path.
    let mut invalid = design.clone();
    invalid["resources"][0]["fields"][0]["min_length"] = 9.into();
    invalid["resources"][0]["fields"][0]["max_length"] = 2.into();
    std::fs::write(&file, invalid.to_string()).unwrap();
    let refused = home.run(&["iterate", "shelf", "--design", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("resources.book.fields.title"),
        "{}",
        text(&refused.stderr)
    );

    // A prompt and a design file are exclusive.
    let both = home.run(&[
        "iterate",
        "shelf",
        "add a year",
        "--design",
        file.to_str().unwrap(),
    ]);
    assert_eq!(both.status.code(), Some(2));
    assert_eq!(versions(&home, "shelf").len(), 1);

    // --strict refuses a follow-up whose reading has a warning; nothing is submitted.
    let strict = home.run(&[
        "iterate",
        "shelf",
        "--strict",
        "add genre to books. Make it zippy.",
    ]);
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    let out = text(&strict.stdout);
    assert!(
        out.contains("genre") && out.contains("not used in the design: zippy"),
        "{out}"
    );
    assert_eq!(versions(&home, "shelf").len(), 1);

    // The edit itself: an isbn, unique.
    let mut edited = design.clone();
    edited["resources"][0]["fields"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "isbn", "type": "string", "unique": true}));
    std::fs::write(&file, serde_json::to_string_pretty(&edited).unwrap()).unwrap();
    let second = home.json(&[
        "iterate",
        "shelf",
        "--design",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(second["state"], "succeeded", "{second}");
    assert_eq!(second["output"]["version"], 2, "{second}");
    assert_eq!(second["output"]["check_status"], "passing", "{second}");
    let now: Value =
        serde_json::from_slice(&home.run(&["files", "shelf", "apiforge.json"]).stdout).unwrap();
    let isbn = now["resources"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "isbn")
        .unwrap_or_else(|| panic!("no isbn in {now}"));
    assert_eq!(isbn["unique"], true, "{now}");
    let listed = versions(&home, "shelf");
    assert_eq!(listed.len(), 2);
    assert!(
        listed[1]["prompt"]
            .as_str()
            .unwrap()
            .contains("design edited by hand (edited.json)"),
        "{listed:?}"
    );
}
