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

/// The real UI loop on a `TestBackend`: the visible Deployment tab reloads by itself
/// (new requests appear without a key) and shows the undeploy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visible_tab_refreshes_itself_in_the_running_ui() {
    use apiforge::auth::Session;
    use apiforge::tui::app::App;
    use apiforge::tui::effect::SessionSource;
    use apiforge::tui::view::buffer_text;
    use crossterm::event::Event;
    use futures::channel::mpsc::unbounded;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::time::Duration;
    use tokio::sync::watch;

    let home = std::sync::Arc::new(DeployHome::new());
    let h = home.clone();
    let route = blocking(move || {
        h.new_project("fastapi", "memos", "a memos API: memos with a text");
        h.deploy(&["memos"])["route"].as_str().unwrap().to_owned()
    })
    .await;
    let ctx = services(&home).await;
    let session = Session {
        db: ctx.db.clone(),
        token: ctx.token.clone(),
        identity: apiforge::db::users::whoami(&ctx.db, &ctx.token)
            .await
            .unwrap()
            .unwrap(),
    };
    let app = App::new(&ctx.config, &ctx.dirs, SessionSource::Given(session));
    let (keys, input) = unbounded::<std::io::Result<Event>>();
    let (tx, mut seen) = watch::channel(String::new());
    let running = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        app.run(&mut terminal, input, move |_, buffer| {
            tx.send_replace(buffer_text(buffer));
        })
        .await
        .unwrap()
    });
    let press = |c: char| {
        keys.unbounded_send(Ok(Event::Key(KeyEvent::from(KeyCode::Char(c)))))
            .unwrap();
    };
    let mut wait_for = async |what: &str, check: &dyn Fn(&str) -> bool| {
        let timeout = Duration::from_secs(30);
        tokio::time::timeout(timeout, async {
            loop {
                if check(&seen.borrow_and_update()) {
                    return;
                }
                seen.changed().await.expect("the app is running");
            }
        })
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}:\n{}", *seen.borrow()));
    };

    wait_for("the project", &|s| s.contains("memos")).await;
    press('3');
    press('[');
    wait_for("the live deployment", &|s| {
        s.contains("instance healthy") && s.contains("no requests yet")
    })
    .await;

    // No key is pressed from here on: only the tab's own reloads can show these.
    let (h, r) = (home.clone(), route.clone());
    blocking(move || {
        for _ in 0..3 {
            assert_eq!(h.get(&format!("{r}memos")).unwrap().status, 200);
        }
    })
    .await;
    wait_for("the three requests", &|s| s.contains("3 req · 2xx 3")).await;
    let h = home.clone();
    blocking(move || {
        let out = h.json(&["undeploy", "memos", "--json"]);
        assert_eq!(out["state"], "succeeded", "{out}");
    })
    .await;
    wait_for("the undeploy", &|s| s.contains("Not deployed.")).await;

    press('q');
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the app quits")
        .unwrap();
}
