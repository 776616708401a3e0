//! TUI figures for issue 6. Run: `cargo bench --bench tui`.
//!
//! * start → first frame, and start → first frame with the projects loaded, with the
//!   embedded database running (goal ≤ 150 ms)
//! * resident memory with 100 projects loaded (goal ≤ 60 MB)
//! * CPU time and frames drawn while idle for 10 s (goal ≈ 0)
//! * issue 12: a 10 KB paste into the new project dialog — as a bracketed paste, as a
//!   burst of keys, the frame that draws it (`cargo bench --bench tui -- paste` runs
//!   only these)
//!
//! The real loop on a `TestBackend` of 120×40, connecting like `apiforge` does
//! (embedded cluster in a private APIFORGE_HOME, local sign-in, in-process worker).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apiforge::auth::Session;
use apiforge::codegen::Framework;
use apiforge::config::{Config, Dirs};
use apiforge::db::projects::{self, NamedProject};
use apiforge::tui::app::App;
use apiforge::tui::effect::SessionSource;
use crossterm::event::{Event, KeyCode, KeyEvent};
use futures::channel::mpsc::unbounded;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<52} n={:<3} median {:>8.1} ms   p95 {:>8.1} ms   max {:>8.1} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// User + system CPU time of this process (from /proc, in clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[derive(Default)]
struct Timings {
    first_frame: Option<Duration>,
    loaded: Option<Duration>,
    frames: usize,
}

/// Runs the app; returns once `stop_when` says so (after pressing q).
async fn run_app(
    config: &Config,
    dirs: &Dirs,
    source: SessionSource,
    idle: Option<Duration>,
) -> (Timings, f64, Option<(Duration, usize)>) {
    let start = Instant::now();
    let app = App::new(config, dirs, source);
    let (keys, input) = unbounded();
    let timings = Arc::new(Mutex::new(Timings::default()));
    let seen = timings.clone();
    let (loaded_tx, loaded_rx) = tokio::sync::oneshot::channel();
    let mut loaded_tx = Some(loaded_tx);
    let task = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        app.run(&mut terminal, input, move |state, _| {
            let mut t = seen.lock().unwrap();
            t.frames += 1;
            t.first_frame.get_or_insert(start.elapsed());
            if state.projects.loaded && t.loaded.is_none() {
                t.loaded = Some(start.elapsed());
                if let Some(tx) = loaded_tx.take() {
                    let _ = tx.send(());
                }
            }
        })
        .await
        .unwrap()
    });
    tokio::time::timeout(Duration::from_secs(60), loaded_rx)
        .await
        .expect("projects load")
        .unwrap();
    let rss = rss_mb();
    let idle_figures = match idle {
        Some(span) => {
            // Let the load's follow-ups (jobs) settle before measuring.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let frames = timings.lock().unwrap().frames;
            let cpu = cpu_time();
            tokio::time::sleep(span).await;
            Some((cpu_time() - cpu, timings.lock().unwrap().frames - frames))
        }
        None => None,
    };
    keys.unbounded_send(Ok(Event::Key(KeyEvent::from(KeyCode::Char('q')))))
        .unwrap();
    task.await.unwrap();
    let t = std::mem::take(&mut *timings.lock().unwrap());
    (t, rss, idle_figures)
}

/// A 10 KB multi-line prompt into the new project dialog: as one bracketed paste, as
/// one burst of keys (a terminal that does not bracket pastes), and typed key by key;
/// then a frame drawing it. The reducer and the view only: no database.
fn paste_figures() {
    use apiforge::provider::ProviderKind;
    use apiforge::tui::editor::Editor;
    use apiforge::tui::keymap::Keymap;
    use apiforge::tui::message::Message;
    use apiforge::tui::preview::Preview;
    use apiforge::tui::state::{Defaults, State};
    use apiforge::tui::theme::Theme;

    let line = "a garden API: plants with name, variety and planted date; rows x, quick deploys\n";
    let text = line.repeat(10 * 1024 / line.len() + 1);
    let keys: Vec<Event> = text
        .chars()
        .map(|c| {
            Event::Key(KeyEvent::from(match c {
                '\n' => KeyCode::Enter,
                c => KeyCode::Char(c),
            }))
        })
        .collect();
    let dialog = || {
        let defaults = Defaults {
            framework: Framework::Fastapi,
            provider: ProviderKind::Rules,
            sandbox: "process".into(),
        };
        let (mut state, _) = State::new(defaults, Keymap::defaults(), chrono::Utc::now());
        state.update(Message::Input(Event::Key(KeyEvent::from(KeyCode::Char(
            'n',
        )))));
        state
    };
    let (mut pasted, mut burst, mut typed, mut drawn) = (vec![], vec![], vec![], vec![]);
    for _ in 0..20 {
        let mut state = dialog();
        let start = Instant::now();
        state.update(Message::Paste(text.clone()));
        pasted.push(start.elapsed());

        let mut state = dialog();
        let start = Instant::now();
        state.update(Message::Burst(keys.clone()));
        burst.push(start.elapsed());

        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let (theme, mut editor, mut preview) = (Theme::dark(), Editor::new(), Preview::new());
        let start = Instant::now();
        terminal
            .draw(|f| apiforge::tui::view::draw(f, &state, &theme, &mut editor, &mut preview))
            .unwrap();
        drawn.push(start.elapsed());
    }
    for _ in 0..3 {
        let mut state = dialog();
        let start = Instant::now();
        for c in text.chars().filter(|c| *c != '\n') {
            state.update(Message::Input(Event::Key(KeyEvent::from(KeyCode::Char(c)))));
        }
        typed.push(start.elapsed());
    }
    println!("a {} byte prompt in the new project dialog:", text.len());
    summary("  one bracketed paste (Message::Paste)", pasted);
    summary("  one burst of keys (Message::Burst)", burst);
    summary("  a frame drawing it (120x40)", drawn);
    summary("  for contrast: typed one key per message", typed);
}

fn main() {
    paste_figures();
    if std::env::args().any(|a| a == "paste") {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let dirs = Dirs::under(home.path());
    let config = Config::defaults();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Creates and starts the embedded cluster (not measured: a first run only).
        let session = Session::open(&config, &dirs).await.unwrap();
        let mut tx = session.db.begin_as(&session.token).await.unwrap();
        for n in 0..100 {
            projects::create_named(
                &mut tx,
                &NamedProject {
                    owner: session.identity.id,
                    name: &format!("bench project {n}"),
                    description: "",
                    framework: Framework::Fastapi,
                    provider: "rules",
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();

        // Like `apiforge`: open the (running) database and sign in inside the app.
        let mut first = Vec::new();
        let mut loaded = Vec::new();
        let mut rss = 0.0;
        for _ in 0..10 {
            let (t, r, _) = run_app(&config, &dirs, SessionSource::Configured, None).await;
            first.push(t.first_frame.unwrap());
            loaded.push(t.loaded.unwrap());
            rss = r;
        }
        summary("start -> first frame", first);
        summary("start -> first frame with 100 projects loaded", loaded);
        println!("resident memory with 100 projects loaded: {rss:.1} MB");

        let (_, _, idle) = run_app(
            &config,
            &dirs,
            SessionSource::Given(session.clone()),
            Some(Duration::from_secs(10)),
        )
        .await;
        let (cpu, frames) = idle.unwrap();
        println!(
            "idle 10 s: CPU {:.0} ms ({:.2}% of one core), {frames} frames drawn",
            cpu.as_secs_f64() * 1e3,
            cpu.as_secs_f64() / 10.0 * 100.0
        );
        session.db.close().await;
    });
    let _ = std::process::Command::new(env!("CARGO_BIN_EXE_apiforge"))
        .env("APIFORGE_HOME", home.path())
        .args(["db", "stop"])
        .output();
}
