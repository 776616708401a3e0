//! The preview's Deployment tab against a real deployment: a version deployed through
//! the real binary (the `apiforge serve` daemon on a free gateway port), requests
//! through the gateway, then the executor's `LoadDeployment` sees the URL, the live
//! version, a healthy instance with its log, and exactly the requests that were sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use apiforge::auth::local_sign_in;
use apiforge::config::{Config, Dirs};
use apiforge::db::Db;
use apiforge::db::projects;
use apiforge::deploy::deployment_status::DeploymentStatus;
use apiforge::tui::outcome::Outcome;
use apiforge::tui::preview::{
    DeploymentState, Preview, PreviewRequest, PreviewResult, PreviewServices, Target, perform,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use crate::deploy_cli::DeployHome;
use crate::support;

async fn services(home: &DeployHome) -> PreviewServices {
    let dirs = Dirs::under(home.home.path());
    let mut config = Config::load(None, &dirs).unwrap();
    config.runtimes.dir = support::test_runtimes_dir();
    config.deploy.gateway_addr = home.gateway.clone();
    let db = Db::open(&config, &dirs).await.unwrap();
    let (token, identity) = local_sign_in(&db, &dirs.data, config.auth.session_days)
        .await
        .unwrap();
    PreviewServices::new(db, token, identity.id, config, dirs)
}

async fn project(services: &PreviewServices, slug: &str) -> projects::Project {
    let mut tx = services.db.begin_as(&services.token).await.unwrap();
    let p = projects::get_by_slug(&mut tx, services.user, slug)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    p
}

async fn load(
    services: &PreviewServices,
    project: Uuid,
) -> (PreviewResult, Option<DeploymentStatus>) {
    let result = perform(PreviewRequest::LoadDeployment { project }, services).await;
    let PreviewResult::DeploymentLoaded {
        project: p,
        deployment,
    } = &result
    else {
        panic!("not a deployment result: {result:?}");
    };
    assert_eq!(*p, project);
    let deployment = deployment.clone().unwrap().map(|d| *d);
    (result, deployment)
}

/// Runs blocking HTTP off the async runtime's threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployment_tab_loads_a_real_deployment_with_its_traffic() {
    let home = std::sync::Arc::new(DeployHome::new());
    let h = home.clone();
    let route = blocking(move || {
        h.new_project(
            "fastapi",
            "notes",
            "a notes API: notes with a title and a body",
        );
        h.deploy(&["notes"])["route"].as_str().unwrap().to_owned()
    })
    .await;
    let services = services(&home).await;
    let notes = project(&services, "notes").await;
    let project = notes.id;
    let url = format!("http://{}{route}", home.gateway);

    let (_, before) = load(&services, project).await;
    let before = before.expect("the project is deployed");
    assert_eq!(before.url, url);
    assert_eq!(before.row.version, 1);
    assert_eq!(before.row.state, "live");
    let instance = before.instance_summary().expect("the daemon hosts it");
    assert_eq!(instance.state, "healthy", "{:?}", before.instance);
    assert_eq!(instance.restarts, 0);
    let counted = |d: &DeploymentStatus| {
        d.traffic
            .as_ref()
            .map_or((0, [0; 5]), |t| (t.requests, t.status_classes))
    };
    let (requests, classes) = counted(&before);

    // Three successes and one miss through the gateway.
    let (h, r) = (home.clone(), route.clone());
    blocking(move || {
        for _ in 0..3 {
            let ok = h.get(&format!("{r}notes")).unwrap();
            assert_eq!(ok.status, 200, "{}", ok.text());
        }
        let missing = h.get(&format!("{r}notes/999999")).unwrap();
        assert_eq!(missing.status, 404, "{}", missing.text());
    })
    .await;

    let (result, after) = load(&services, project).await;
    let after = after.expect("still deployed");
    let (now, now_classes) = counted(&after);
    assert_eq!(now - requests, 4, "{:?}", after.traffic);
    assert_eq!(now_classes[1] - classes[1], 3, "2xx: {now_classes:?}");
    assert_eq!(now_classes[3] - classes[3], 1, "4xx: {now_classes:?}");
    let traffic = after.traffic.as_ref().unwrap();
    assert_eq!(traffic.per_second.len(), 60);
    assert!(
        traffic.per_second.iter().sum::<u64>() >= 4,
        "the last minute holds the requests: {:?}",
        traffic.per_second
    );
    let (p50, p99) = after.latency();
    assert!(p50.is_some() && p99 >= p50, "{p50:?} {p99:?}");
    assert!(
        !after.instance_summary().unwrap().logs.is_empty(),
        "the instance's output is kept"
    );

    // The tab shows it, and the Endpoints tab can now send to the deployment.
    let mut preview = Preview::new();
    let show = preview.show(&notes).expect("a load of v1");
    let loaded = perform(show, &services).await;
    assert_eq!(loaded.error(), None, "{loaded:?}");
    preview.apply(loaded);
    preview.apply(result);
    assert_eq!(preview.deployment_tab().url(), Some(url.as_str()));
    assert!(matches!(
        preview.deployment_tab().state(),
        DeploymentState::Live(_)
    ));
    let press = |p: &mut Preview, code| p.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
    assert_eq!(press(&mut preview, KeyCode::Enter), Outcome::Consumed);
    press(&mut preview, KeyCode::Char('t'));
    assert_eq!(preview.target(), &Target::Url(url.clone()));

    // Undeployed: the tab says so.
    let h = home.clone();
    blocking(move || {
        let out = h.json(&["undeploy", "notes", "--json"]);
        assert_eq!(out["state"], "succeeded", "{out}");
    })
    .await;
    let (result, gone) = load(&services, project).await;
    assert_eq!(gone, None);
    preview.apply(result);
    assert_eq!(
        preview.deployment_tab().state(),
        &DeploymentState::NotDeployed
    );
    assert_eq!(preview.target(), &Target::Sandbox);
}
