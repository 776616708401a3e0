//! `apiforge iterate`: a follow-up prompt makes a new version with the change; hand
//! edits of the parent are merged in, and a conflicting edit is reported, not lost.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::collections::BTreeSet;

use apiforge::codegen::{Framework, GeneratedFiles};
use apiforge::versions::{self, NewVersion, Origin};
use serde_json::Value;
use support::ApiforgeHome;
use uuid::Uuid;

/// Records a hand-edited version the way a save from the editor would: `edit`
/// changes the latest version's files.
async fn hand_edit(home: &ApiforgeHome, slug: &str, edit: impl FnOnce(&mut GeneratedFiles)) {
    let urls = home.json(&["db", "url", "--json"]);
    let user: Uuid = home.json(&["whoami", "--json"])["user"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let pool = sqlx::PgPool::connect(urls["owner_url"].as_str().unwrap())
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let project: (Uuid, i32) =
        sqlx::query_as("SELECT id, latest_version FROM projects WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let latest = versions::get(&mut tx, project.0, project.1).await.unwrap();
    let mut files = versions::read_contents(&mut tx, project.0, project.1)
        .await
        .unwrap();
    let before = files.clone();
    edit(&mut files);
    let generated: BTreeSet<String> = files
        .iter()
        .filter(|(p, c)| before.get(*p) == Some(*c))
        .map(|(p, _)| p.clone())
        .collect();
    versions::record_version(
        &mut tx,
        &NewVersion {
            project: project.0,
            parent: Some(project.1),
            origin: Origin::Edit,
            prompt: "hand edit",
            design: &latest.design,
            spec: &latest.spec,
            framework: Framework::Fastapi,
            files: &files,
            generated: &generated,
            created_by: user,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    pool.close().await;
}

fn fields(design: &Value, resource: &str) -> Vec<String> {
    design["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == resource)
        .unwrap()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn iterations_carry_hand_edits_and_report_conflicts() {
    let home = ApiforgeHome::new();
    let h = &home;
    tokio::task::block_in_place(|| {
        h.json(&["runtimes", "install", "--json"]);
        let first = h.json(&[
            "new",
            "Books with title and author",
            "--name",
            "library",
            "--json",
        ]);
        assert_eq!(first["output"]["version"], 1, "{first}");
    });

    // v2: a hand edit the next iteration does not touch.
    hand_edit(h, "library", |files| {
        let readme = files.get_mut("README.md").unwrap();
        readme.push_str("\n## Notes from the team\n\nHand-written, keep me.\n");
    })
    .await;

    let (third, design, readme) = tokio::task::block_in_place(|| {
        let third = h.json(&[
            "iterate",
            "library",
            "add a published year to books",
            "--json",
        ]);
        let design: Value =
            serde_json::from_slice(&h.run(&["files", "library", "apiforge.json"]).stdout).unwrap();
        let readme = String::from_utf8(h.run(&["files", "library", "README.md"]).stdout).unwrap();
        (third, design, readme)
    });
    assert_eq!(third["state"], "succeeded", "{third}");
    assert_eq!(third["output"]["version"], 3, "{third}");
    assert_eq!(third["output"]["check_status"], "passing", "{third}");
    assert!(third["output"].get("conflicts").is_none(), "{third}");
    assert!(
        fields(&design, "book").contains(&"published_year".to_owned()),
        "{design}"
    );
    assert!(
        readme.contains("Hand-written, keep me."),
        "the hand edit was lost:\n{readme}"
    );
    assert!(
        readme.contains("published_year"),
        "the regenerated README lacks the new field:\n{readme}"
    );

    // v4: a hand edit on a line the next iteration rewrites.
    hand_edit(h, "library", |files| {
        let models = files.get_mut("app/models.py").unwrap();
        // The first `author` line: in `BookCreate`, which the next iteration removes.
        let line = models
            .lines()
            .find(|l| l.trim_start().starts_with("author:"))
            .unwrap()
            .to_owned();
        *models = models.replacen(&line, &format!("{line}  # must stay a plain name"), 1);
    })
    .await;
    let (fifth, models, versions) = tokio::task::block_in_place(|| {
        let out = h.run(&["iterate", "library", "remove the author field", "--json"]);
        let fifth: Value = serde_json::from_slice(&out.stdout).unwrap();
        let models =
            String::from_utf8(h.run(&["files", "library", "app/models.py"]).stdout).unwrap();
        (fifth, models, h.json(&["versions", "library", "--json"]))
    });
    assert_eq!(fifth["state"], "succeeded", "{fifth}");
    assert_eq!(fifth["output"]["version"], 5, "{fifth}");
    let conflicts: Vec<&str> = fifth["output"]["conflicts"]
        .as_array()
        .unwrap_or_else(|| panic!("no conflicts reported: {fifth}\n{models}"))
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(conflicts.contains(&"app/models.py"), "{fifth}");
    assert!(
        models.contains("<<<<<<<") && models.contains("must stay a plain name"),
        "{models}"
    );
    assert_eq!(versions.as_array().unwrap().len(), 5);
    let origins: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["origin"].as_str().unwrap())
        .collect();
    assert_eq!(origins, ["generate", "edit", "iterate", "edit", "iterate"]);
}
