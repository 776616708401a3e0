//! The real UI loop driven by scripted keys on a `TestBackend`, against a real
//! database, the real engine with an in-process worker and real sandboxes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use apiforge::auth::Session;
use apiforge::config::{Config, Dirs};
use apiforge::tui::app::App;
use apiforge::tui::effect::SessionSource;
use apiforge::tui::log_pane::JobProgress;
use apiforge::tui::state::State;
use apiforge::tui::view::buffer_text;
use crossterm::event::{Event, KeyCode, KeyEvent};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::watch;

use crate::support::{TestDb, test_runtimes_dir};

/// What the test sees after each frame.
#[derive(Clone, Default)]
struct Seen {
    screen: String,
    state: Option<Box<State>>,
}

struct Driver {
    keys: UnboundedSender<std::io::Result<Event>>,
    seen: watch::Receiver<Seen>,
    app: tokio::task::JoinHandle<State>,
    _home: tempfile::TempDir,
}

impl Driver {
    fn start(config: Config, source: SessionSource, size: (u16, u16)) -> Self {
        let home = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(home.path());
        let app = App::new(&config, &dirs, source);
        let (keys, input) = unbounded();
        let (tx, seen) = watch::channel(Seen::default());
        let app = tokio::spawn(async move {
            let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
            app.run(&mut terminal, input, move |state, buffer| {
                tx.send_replace(Seen {
                    screen: buffer_text(buffer),
                    state: Some(Box::new(state.clone())),
                });
            })
            .await
            .unwrap()
        });
        Self {
            keys,
            seen,
            app,
            _home: home,
        }
    }

    fn press(&self, code: KeyCode) {
        self.keys
            .unbounded_send(Ok(Event::Key(KeyEvent::from(code))))
            .unwrap();
    }

    fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c));
        }
    }

    /// Waits until `check` holds for a drawn frame.
    async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&State, &str) -> bool,
    ) -> Seen {
        let result = tokio::time::timeout(timeout, async {
            loop {
                {
                    let seen = self.seen.borrow_and_update();
                    if let Some(state) = &seen.state
                        && check(state, &seen.screen)
                    {
                        return seen.clone();
                    }
                }
                self.seen.changed().await.expect("the app is running");
            }
        })
        .await;
        result.unwrap_or_else(|_| {
            panic!(
                "timed out after {timeout:?} waiting for {what}; the screen:\n{}",
                self.seen.borrow().screen
            )
        })
    }

    async fn quit(self) -> State {
        self.press(KeyCode::Char('q'));
        tokio::time::timeout(Duration::from_secs(30), self.app)
            .await
            .expect("the app quits")
            .unwrap()
    }
}

fn config() -> Config {
    let mut config = Config::defaults();
    config.runtimes.dir = test_runtimes_dir();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_created_in_the_new_dialog_passes_its_tests() {
    let test = TestDb::new().await;
    let db = test.db().await;
    let (_, token) = test.user(&db, "alice@example.com").await;
    let identity = apiforge::db::users::whoami(&db, &token)
        .await
        .unwrap()
        .unwrap();
    let session = Session {
        db,
        token,
        identity,
    };
    let mut ui = Driver::start(config(), SessionSource::Given(session), (120, 40));

    ui.wait_for("the session", Duration::from_secs(30), |s, screen| {
        s.projects.loaded && screen.contains("alice@example.com · db:")
    })
    .await;
    ui.press(KeyCode::Char('n'));
    ui.type_text("a bakery API: products with name, price and stock");
    ui.press(KeyCode::Enter);
    let seen = ui
        .wait_for(
            "the generate job to finish",
            Duration::from_secs(240),
            |s, _| s.log.jobs.iter().any(|j| j.progress.is_final()),
        )
        .await;
    let state = seen.state.unwrap();
    let job = &state.log.jobs[0];
    assert_eq!(job.kind, "generate");
    assert!(
        matches!(job.progress, JobProgress::Succeeded { .. }),
        "{:?}\n{}",
        job.progress,
        seen.screen
    );
    // The job's output arrives with the reload that follows its end.
    let seen = ui
        .wait_for(
            "the passing version in both panes",
            Duration::from_secs(30),
            |s, _| {
                s.log.jobs[0].passed()
                    && s.projects.projects.iter().any(|p| {
                        p.slug == "bakery" && p.latest_version == Some(1) && p.status == "passing"
                    })
            },
        )
        .await;
    assert!(seen.screen.contains("✓ v1 passing"), "{}", seen.screen);
    assert!(seen.screen.contains("✓ bakery"), "{}", seen.screen);
    let steps: Vec<&str> = job.steps.iter().map(|s| s.name.as_str()).collect();
    assert!(steps.contains(&"check"), "{steps:?}");

    let state = ui.quit().await;
    assert!(state.quit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_database_is_a_notice_and_the_ui_keeps_running() {
    let mut config = config();
    // Nothing listens on port 1.
    config.database.url = "postgresql://nobody@127.0.0.1:1/none".into();
    config.database.connect_timeout_secs = 1;
    let mut ui = Driver::start(config, SessionSource::Configured, (80, 24));
    ui.wait_for(
        "the connection error",
        Duration::from_secs(30),
        |_, screen| screen.contains("cannot open the database"),
    )
    .await;
    // Still responsive: the help overlay opens and closes.
    ui.press(KeyCode::Char('?'));
    ui.wait_for("the help overlay", Duration::from_secs(10), |_, screen| {
        screen.contains("Quit apiforge")
    })
    .await;
    ui.press(KeyCode::Esc);
    ui.wait_for("the retry", Duration::from_secs(30), |s, _| {
        matches!(s.db, apiforge::tui::state::DbHealth::Connecting { attempt } if attempt >= 2)
    })
    .await;
    let state = ui.quit().await;
    assert!(state.session.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_notices_a_stopped_database_and_reconnects_when_it_returns() {
    use apiforge::db::local_cluster::LocalCluster;
    use apiforge::tui::state::DbHealth;

    let mut config = config();
    config.database.connect_timeout_secs = 2;
    // The embedded cluster of a private home, the way `apiforge` runs it.
    let mut ui = Driver::start(config, SessionSource::Configured, (120, 40));
    let data = Dirs::under(ui._home.path()).data;
    ui.wait_for("the embedded database", Duration::from_secs(120), |s, _| {
        s.projects.loaded && s.db == DbHealth::Up
    })
    .await;
    let cluster = LocalCluster::for_data_dir(&data).unwrap();
    let stopping = cluster.clone();
    tokio::task::spawn_blocking(move || stopping.stop().unwrap())
        .await
        .unwrap();
    // The feed notices by itself; a refresh makes sure a query fails too.
    ui.press(KeyCode::F(5));
    ui.wait_for(
        "the database shown as down",
        Duration::from_secs(60),
        |s, screen| matches!(s.db, DbHealth::Down { .. }) && screen.contains("db: down"),
    )
    .await;
    let starting = cluster.clone();
    tokio::task::spawn_blocking(move || starting.ensure_running().unwrap())
        .await
        .unwrap();
    ui.wait_for("the reconnection", Duration::from_secs(90), |s, screen| {
        s.db == DbHealth::Up && screen.contains("reachable again")
    })
    .await;
    ui.quit().await;
    let _ = tokio::task::spawn_blocking(move || cluster.stop()).await;
}
