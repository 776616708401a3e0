//! Editor figures. Run: `cargo bench --bench editor` (optimised), or with the warm
//! debug build `cargo bench --profile dev --bench editor` (an upper bound).
//!
//! A 10,000-line Python file in the editor pane, drawn into a 120×40 `TestBackend`:
//! * first open: the version's files arrive, Enter opens the file, the first frame is
//!   drawn (the grammars and themes load once per process, measured separately);
//! * keystroke → frame: one key handled and the whole pane drawn again, for typing
//!   in the middle of the file (line 5,000), Enter/Backspace (lines inserted and
//!   joined), opening and closing a triple-quoted string (the highlighting of every
//!   line below changes) and paging through the file (new lines highlighted).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use apiforge::codegen::GeneratedFiles;
use apiforge::db::projects::Project;
use apiforge::tui::editor::{Editor, EditorResult};
use apiforge::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

const LINES: usize = 10_000;

fn python(lines: usize) -> String {
    let block = [
        "class Item{n}(BaseModel):",
        "    \"\"\"An item of the bakery, number {n}.\"\"\"",
        "    name: str = \"bread\"",
        "    def price(self, count: int) -> float:",
        "        total = count * 1.5 + {n}  # rounded below",
        "        return round(total, 2)",
        "",
    ];
    let mut text = String::new();
    for i in 0..lines {
        let line = if i == LINES / 2 {
            "marker_line = True".to_owned()
        } else {
            block[i % block.len()].replace("{n}", &(i / block.len()).to_string())
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// CPU time this thread has run, from the scheduler (nanoseconds on CPU). The
/// machine running benchmarks is often shared, so the mean CPU time per key is
/// printed next to the wall-clock percentiles, which include waiting for a core.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn report(name: &str, samples: (Vec<Duration>, Duration)) {
    let (mut samples, cpu) = samples;
    let mean_cpu = cpu / u32::try_from(samples.len()).unwrap();
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<44} n={:<5} p50 {:>7.3} ms   p99 {:>7.3} ms   max {:>7.3} ms   cpu/op {:>7.3} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
        mean_cpu.as_secs_f64() * 1e3
    );
}

/// Wall-clock time of each operation, and the CPU time of them all.
type Timings = (Vec<Duration>, Duration);

fn extend(total: &mut Timings, more: Timings) {
    total.0.extend(more.0);
    total.1 += more.1;
}

struct Bench {
    editor: Editor,
    terminal: Terminal<TestBackend>,
    theme: Theme,
}

impl Bench {
    fn frame(&mut self) {
        let (editor, theme) = (&mut self.editor, &self.theme);
        self.terminal
            .draw(|frame| editor.render(frame, frame.area(), theme, true))
            .unwrap();
    }

    /// Times each key plus the frame after it.
    fn keys(&mut self, keys: &[KeyEvent]) -> Timings {
        let cpu = cpu_time();
        let samples = keys
            .iter()
            .map(|k| {
                let start = Instant::now();
                self.editor.handle_key(*k);
                self.frame();
                start.elapsed()
            })
            .collect();
        (samples, cpu_time() - cpu)
    }
}

fn main() {
    let theme = Theme::dark();
    let start = Instant::now();
    let warm = apiforge::tui::highlight::highlight_text("x = 1", "py", &theme);
    assert_eq!(warm.len(), 1);
    println!(
        "{:<44} {:>7.3} ms",
        "load grammars and themes (once per process)",
        start.elapsed().as_secs_f64() * 1e3
    );

    let project = Project {
        id: Uuid::from_u128(1),
        owner_id: Uuid::from_u128(2),
        slug: "bakery".into(),
        name: "bakery".into(),
        description: String::new(),
        framework: "fastapi".into(),
        provider: "rules".into(),
        status: "passing".into(),
        latest_version: Some(1),
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    };
    let files: GeneratedFiles = [
        ("app/big.py".to_owned(), python(LINES)),
        ("app/main.py".to_owned(), "print('hi')\n".to_owned()),
    ]
    .into_iter()
    .collect();

    let mut opens: Timings = (Vec::new(), Duration::ZERO);
    let mut bench = None;
    for _ in 0..5 {
        let cpu = cpu_time();
        let start = Instant::now();
        let mut editor = Editor::new();
        editor.load(&project);
        editor.apply(EditorResult::Loaded {
            project: project.id,
            version: 1,
            files: files.clone(),
        });
        // app/ is row 0, app/big.py row 1.
        editor.handle_key(key(KeyCode::Char('j')));
        editor.handle_key(key(KeyCode::Enter));
        let mut b = Bench {
            editor,
            terminal: Terminal::new(TestBackend::new(120, 40)).unwrap(),
            theme: theme.clone(),
        };
        b.frame();
        opens.0.push(start.elapsed());
        opens.1 += cpu_time() - cpu;
        bench = Some(b);
    }
    report("first open of a 10k-line file (to frame)", opens);
    let mut bench = bench.unwrap();
    assert_eq!(bench.editor.open_file(), Some("app/big.py"));

    // Go to the middle of the file with a search.
    let mut to_middle = vec![KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)];
    to_middle.extend("marker_line".chars().map(|c| key(KeyCode::Char(c))));
    to_middle.push(key(KeyCode::Enter));
    bench.keys(&to_middle);
    assert_eq!(
        bench.editor.buffer("app/big.py").unwrap().lines()[LINES / 2],
        "marker_line = True"
    );

    let mut typing: Timings = Default::default();
    for _ in 0..40 {
        let keys: Vec<KeyEvent> = "value = compute(1)"
            .chars()
            .map(|c| key(KeyCode::Char(c)))
            .chain([key(KeyCode::Enter)])
            .collect();
        extend(&mut typing, bench.keys(&keys));
    }
    report("keystroke → frame: typing at line 5,000", typing);

    let mut joins: Timings = Default::default();
    for _ in 0..200 {
        extend(
            &mut joins,
            bench.keys(&[key(KeyCode::Enter), key(KeyCode::Backspace)]),
        );
    }
    report("keystroke → frame: Enter / Backspace", joins);

    let mut strings: Timings = Default::default();
    let quote = key(KeyCode::Char('"'));
    let back = key(KeyCode::Backspace);
    for _ in 0..100 {
        extend(&mut strings, bench.keys(&[quote, quote, quote]));
        extend(&mut strings, bench.keys(&[back, back, back]));
    }
    report("keystroke → frame: open/close \"\"\" string", strings);

    let mut paging = bench.keys(&[key(KeyCode::PageDown); 120]);
    extend(&mut paging, bench.keys(&[key(KeyCode::PageUp); 120]));
    report("keystroke → frame: PageDown/PageUp", paging);

    let mut cursor = bench.keys(&[key(KeyCode::Down); 300]);
    extend(&mut cursor, bench.keys(&[key(KeyCode::Up); 300]));
    report("keystroke → frame: cursor down/up", cursor);

    // The part of a keystroke spent inside ratatui-textarea, which rebuilds its map
    // of screen lines (every line's width) after each edit.
    let mut textarea =
        ratatui_textarea::TextArea::new(python(LINES).lines().map(str::to_owned).collect());
    for _ in 0..LINES / 2 {
        textarea.move_cursor(ratatui_textarea::CursorMove::Down);
    }
    let cpu = cpu_time();
    let inputs: Vec<Duration> = (0..400)
        .map(|i| {
            let k = if i % 2 == 0 {
                key(KeyCode::Char('x'))
            } else {
                key(KeyCode::Backspace)
            };
            let start = Instant::now();
            textarea.input(k);
            start.elapsed()
        })
        .collect();
    report(
        "  of which ratatui-textarea's own input",
        (inputs, cpu_time() - cpu),
    );

    println!(
        "{:<44} {}",
        "lines run through syntect in total",
        bench
            .editor
            .buffer("app/big.py")
            .map_or(0, |b| b.lines_highlighted())
    );
}
