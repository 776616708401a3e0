//! The real UI loop driven by scripted keys on a `TestBackend`, against a real
//! database, the real engine with an in-process worker and real sandboxes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use apiforge::auth::Session;
use apiforge::config::{Config, Dirs};
use apiforge::tui::app::App;
use apiforge::tui::dialog::Dialog;
use apiforge::tui::effect::SessionSource;
use apiforge::tui::log_pane::JobProgress;
use apiforge::tui::state::{Overlay, State};
use apiforge::tui::view::buffer_text;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::Stream;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
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

/// The terminal as the app reads it: each `Vec` sent is one read, whose events are
/// ready together (a burst); between two reads the stream is not ready once, the way
/// a terminal has nothing between two key presses.
struct Reads {
    rx: UnboundedReceiver<Vec<std::io::Result<Event>>>,
    current: VecDeque<std::io::Result<Event>>,
    between: bool,
}

impl Stream for Reads {
    type Item = std::io::Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(event) = self.current.pop_front() {
                self.between = self.current.is_empty();
                return Poll::Ready(Some(event));
            }
            if self.between {
                self.between = false;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match Pin::new(&mut self.rx).poll_next(cx) {
                Poll::Ready(Some(read)) => self.current = read.into(),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

struct Driver {
    reads: UnboundedSender<Vec<std::io::Result<Event>>>,
    seen: watch::Receiver<Seen>,
    /// Every frame drawn, in order.
    frames: Arc<Mutex<Vec<State>>>,
    app: tokio::task::JoinHandle<State>,
    _home: tempfile::TempDir,
}

impl Driver {
    fn start(config: Config, source: SessionSource, size: (u16, u16)) -> Self {
        let home = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(home.path());
        let app = App::new(&config, &dirs, source);
        let (reads, rx) = unbounded();
        let input = Reads {
            rx,
            current: VecDeque::new(),
            between: false,
        };
        let (tx, seen) = watch::channel(Seen::default());
        let frames = Arc::new(Mutex::new(Vec::new()));
        let recorded = frames.clone();
        let app = tokio::spawn(async move {
            let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
            app.run(&mut terminal, input, move |state, buffer| {
                recorded.lock().unwrap().push(state.clone());
                tx.send_replace(Seen {
                    screen: buffer_text(buffer),
                    state: Some(Box::new(state.clone())),
                });
            })
            .await
            .unwrap()
        });
        Self {
            reads,
            seen,
            frames,
            app,
            _home: home,
        }
    }

    /// One key press, read on its own.
    fn press(&self, code: KeyCode) {
        self.read(vec![Event::Key(KeyEvent::from(code))]);
    }

    /// Events the terminal delivers in one read.
    fn read(&self, events: Vec<Event>) {
        self.reads
            .unbounded_send(events.into_iter().map(Ok).collect())
            .unwrap();
    }

    fn frame_count(&self) -> usize {
        self.frames.lock().unwrap().len()
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

/// About 10 KB of prompt whose letters are nearly all keymap actions (n new, r
/// rollback, d deploy, x delete, q quit, g iterate…), in lines.
fn long_prompt() -> String {
    let line = "a garden API: plants with name, variety and planted date; rows x, quick deploys, no rollback\n";
    line.repeat(10 * 1024 / line.len() + 1)
}

/// The keys a terminal that does not bracket pastes sends for `text`.
fn keys_of(text: &str) -> Vec<Event> {
    text.chars()
        .map(|c| {
            Event::Key(KeyEvent::from(match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            }))
        })
        .collect()
}

fn has_notice(state: &State, part: &str) -> bool {
    state.notices.items.iter().any(|n| n.text.contains(part))
}

fn new_project_prompt(state: &State) -> Option<&str> {
    match &state.overlay {
        Some(Overlay::Dialog(Dialog::NewProject(d))) => Some(d.prompt.text.as_str()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_kb_paste_lands_whole_in_one_frame_and_runs_no_keys() {
    // No database: a paste needs none, and nothing may reach one.
    let mut config = config();
    config.database.url = "postgresql://nobody@127.0.0.1:1/none".into();
    config.database.connect_timeout_secs = 1;
    let mut ui = Driver::start(config, SessionSource::Configured, (80, 24));
    ui.press(KeyCode::Char('n'));
    ui.wait_for("the new project dialog", Duration::from_secs(10), |s, _| {
        new_project_prompt(s) == Some("")
    })
    .await;
    let text = long_prompt();
    assert!(text.len() >= 10 * 1024);

    for (how, read) in [
        ("as keys in one read", keys_of(&text)),
        ("bracketed", vec![Event::Paste(text.replace('\n', "\r"))]),
    ] {
        let before = ui.frame_count();
        ui.read(read);
        let seen = ui
            .wait_for(
                "the whole paste in the prompt",
                Duration::from_secs(30),
                |s, _| new_project_prompt(s).is_some_and(|p| !p.is_empty()),
            )
            .await;
        let frames = ui.frames.lock().unwrap()[before..].to_vec();
        // Every frame drawn since shows no paste or all of it: it landed in one frame.
        for frame in &frames {
            let prompt = new_project_prompt(frame).expect("the dialog stays open");
            assert!(
                prompt.is_empty() || prompt == text,
                "{how}: a frame showed {} of {} chars",
                prompt.chars().count(),
                text.chars().count()
            );
            assert!(!frame.quit, "{how}");
        }
        let state = seen.state.unwrap();
        assert_eq!(new_project_prompt(&state), Some(text.as_str()), "{how}");
        assert!(state.session.is_none());
        // Clear the prompt for the next round: Ctrl-U pressed on its own.
        ui.read(vec![Event::Key(KeyEvent::new(
            KeyCode::Char('u'),
            KeyModifiers::CONTROL,
        ))]);
        ui.wait_for("an empty prompt", Duration::from_secs(10), |s, _| {
            new_project_prompt(s) == Some("")
        })
        .await;
    }

    // Esc in the middle of a burst closes the dialog; the keys after it never reach
    // the keymap (q would quit, n open another dialog).
    let mut read = keys_of("a todo API");
    read.push(Event::Key(KeyEvent::from(KeyCode::Esc)));
    read.extend(keys_of("qnx\n"));
    ui.read(read);
    ui.wait_for(
        "the dropped keys' notice",
        Duration::from_secs(10),
        |s, _| s.overlay.is_none() && has_notice(s, "ignored 4 keys"),
    )
    .await;
    // A paste with no dialog open: ignored, whether bracketed or not.
    ui.read(keys_of("quit now, then new\n"));
    ui.read(vec![Event::Paste("q".into())]);
    ui.wait_for("the ignored paste", Duration::from_secs(10), |s, _| {
        has_notice(s, "ignored 19 keys that arrived at once")
            && has_notice(s, "the paste was ignored")
            && s.overlay.is_none()
    })
    .await;
    let frames = ui.frames.lock().unwrap().clone();
    assert!(frames.iter().all(|f| !f.quit));
    let state = ui.quit().await;
    assert!(state.quit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_into_the_editor_is_text_and_keys_after_its_esc_never_run() {
    use crate::draft::{Draft, design, files, project};

    let test = TestDb::new().await;
    let db = test.db().await;
    let (user, token) = test.user(&db, "paste@example.com").await;
    let p = project(&db, &token, user, "Bakery").await;
    let v1 = files(&[("app/main.py", "print(1)\n"), ("README.md", "# Bakery\n")]);
    Draft::generated("a bakery", design("one_resource"), v1)
        .record(&db, &token, p.id, user)
        .await;
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
    ui.wait_for(
        "the files in the editor",
        Duration::from_secs(30),
        |_, screen| screen.contains("README.md") && screen.contains("main.py"),
    )
    .await;
    // The editor, its last file (README.md), edit it.
    ui.press(KeyCode::Char('2'));
    ui.press(KeyCode::Char('G'));
    ui.press(KeyCode::Enter);
    ui.wait_for(
        "README.md in edit mode",
        Duration::from_secs(10),
        |_, screen| screen.contains("EDIT ·"),
    )
    .await;
    // One read: pasted lines, then Esc (leaves edit mode), then q and d, which must
    // not quit or deploy.
    let mut read = keys_of("Pasted line one\nline two\n");
    read.push(Event::Key(KeyEvent::from(KeyCode::Esc)));
    read.extend(keys_of("qd"));
    ui.read(read);
    let seen = ui
        .wait_for("the paste in the file", Duration::from_secs(10), |s, _| {
            has_notice(s, "ignored 2 keys")
        })
        .await;
    let lines: Vec<&str> = seen.screen.lines().collect();
    let one = lines.iter().position(|l| l.contains("Pasted line one"));
    let two = lines.iter().position(|l| l.contains("line two"));
    assert!(
        matches!((one, two), (Some(a), Some(b)) if b == a + 1),
        "the pasted lines on consecutive rows:\n{}",
        seen.screen
    );
    assert!(seen.screen.contains("README.md ●"), "{}", seen.screen);
    assert!(!seen.screen.contains("EDIT ·"), "Esc left edit mode");
    let state = seen.state.unwrap();
    assert!(!state.quit);
    assert!(
        state.log.jobs.is_empty(),
        "no deploy job: {:?}",
        state.log.jobs
    );
    // Unsaved edits: the first q warns, the second quits.
    ui.press(KeyCode::Char('q'));
    ui.quit().await;
}
