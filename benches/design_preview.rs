//! The live design preview of the new-project dialog (issue #10 §2). Run:
//! `cargo bench --bench design_preview`.
//!
//! The real loop on a `TestBackend` of 120×40, signed in to an embedded cluster in a
//! private APIFORGE_HOME, the dialog holding a ~2,000-character prompt. Per keystroke
//! (alternately `x` and Backspace at the end of the prompt):
//!
//! * keystroke → the frame that shows it (the goal: ≤ 16 ms p99; typing never waits
//!   for the preview);
//! * keystroke → the frame that shows the preview of the new text, which includes the
//!   100 ms debounce; and that minus the debounce (the reading and its frame);
//! * the reading alone (`design_preview::read`: rules provider, review, tree).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use apiforge::config::{Config, Dirs};
use apiforge::tui::app::App;
use apiforge::tui::design_preview::{self, DEBOUNCE, Reading};
use apiforge::tui::effect::SessionSource;
use apiforge::tui::state::{Overlay, State};
use crossterm::event::{Event, KeyCode, KeyEvent};
use futures::channel::mpsc::unbounded;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::watch;

const PROMPT: &str = "An operations API for a wholesale company. Warehouses with a name, a city, a street address, a capacity in square meters and an opening date. Suppliers with a company name, a contact email, a phone number, a website and a rating between 1 and 5. Products with a sku (unique), a name, a description, a unit price, a weight in kg, a category (food, tools, toys, clothing) and an active flag. Stock levels with a quantity, a reorder point and a last counted date; each stock level belongs to a product and to a warehouse. Customers with a full name, an email (unique), a phone, a loyalty tier (bronze, silver, gold) and a signup date. Orders with an order number (unique), a status (pending, paid, shipped, delivered, cancelled), a total amount, notes and a placed at timestamp; each order belongs to a customer. Order lines with a quantity and a unit price; each order line belongs to an order and to a product. Shipments with a tracking code, a carrier (dhl, ups, fedex), a shipped date and a delivered date; each shipment belongs to an order. Invoices with an invoice number, an issue date, a due date, an amount, a paid flag and a currency; each invoice belongs to an order. Employees with a first name, a last name, a work email, a hire date, a salary and a role (clerk, manager, driver). Departments with a name, a budget and a cost center code; each employee belongs to a department. Returns with a reason, a return date and a refund amount; each return belongs to an order. Vehicles with a plate number (unique), a model, a capacity in kg and a last service date; each vehicle belongs to a warehouse. Promotions with a code (unique), a discount percent, a start date and an end date. Comments with a body and an author name; each comment belongs to an order. Filter orders by status and customer, search products by name and description, sort orders by placed at and total amount, paginate everything. Filter shipments by carrier, search customers by name and email, sort invoices by due date. Secured with an API key.";

const SAMPLES: usize = 200;

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name:<52} n={:<3} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        samples.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    );
}

/// What the probe saw in the last frame: the prompt's length, and the generation of
/// the preview shown (when it is a reading of the current text).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Seen {
    connected: bool,
    dialog: bool,
    prompt_chars: usize,
    generation: u64,
    shown: Option<u64>,
    at: Option<Instant>,
}

fn seen(state: &State) -> Seen {
    let mut s = Seen {
        connected: state.session.is_some(),
        at: Some(Instant::now()),
        ..Seen::default()
    };
    if let Some(Overlay::Dialog(d)) = &state.overlay
        && let (Some(prompt), Some(preview)) = (d.prompt(), d.preview())
    {
        s.dialog = true;
        s.prompt_chars = prompt.chars().count();
        s.generation = preview.generation;
        s.shown = match &preview.reading {
            Reading::Read(r) if !preview.pending => Some(r.generation),
            _ => None,
        };
    }
    s
}

async fn wait_for(rx: &mut watch::Receiver<Seen>, what: &str, ok: impl Fn(&Seen) -> bool) -> Seen {
    tokio::time::timeout(Duration::from_secs(60), rx.wait_for(|s| ok(s)))
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .map(|s| *s)
        .unwrap()
}

fn main() {
    // The reading alone, without the loop.
    let mut reads = Vec::new();
    for g in 0..SAMPLES {
        let start = Instant::now();
        let outcome = design_preview::read(g as u64, PROMPT, None);
        reads.push(start.elapsed());
        assert!(matches!(outcome, design_preview::ReadOutcome::Read(_)));
    }

    // The review alone, on the design the rules provider reads.
    let design = apiforge::provider::rules::RulesProvider::new()
        .design(PROMPT)
        .unwrap();
    let mut reviews = Vec::new();
    for _ in 0..SAMPLES {
        let start = Instant::now();
        let r = apiforge::design::review(PROMPT, &design, None);
        reviews.push(start.elapsed());
        assert!(r.warnings.len() < 10);
    }

    let home = tempfile::tempdir().unwrap();
    let dirs = Dirs::under(home.path());
    let config = Config::defaults();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (echo, preview) = rt.block_on(async {
        let app = App::new(&config, &dirs, SessionSource::Configured);
        let (keys, input) = unbounded();
        let (seen_tx, mut seen_rx) = watch::channel(Seen::default());
        let task = tokio::spawn(async move {
            let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
            app.run(&mut terminal, input, move |state, _| {
                let _ = seen_tx.send(seen(state));
            })
            .await
            .unwrap()
        });
        let send = |code: KeyCode| {
            keys.unbounded_send(Ok(Event::Key(KeyEvent::from(code))))
                .unwrap();
        };
        // Signed in first, so the cluster's start-up does not share the measurement.
        wait_for(&mut seen_rx, "the sign-in", |s| s.connected).await;
        send(KeyCode::Char('n'));
        // The paste on its own: keys read in one go are a burst (see above).
        wait_for(&mut seen_rx, "the dialog", |s| s.dialog).await;
        keys.unbounded_send(Ok(Event::Paste(PROMPT.to_owned())))
            .unwrap();
        let full = PROMPT.chars().count();
        wait_for(&mut seen_rx, "the first preview", |s| {
            s.prompt_chars == full && s.shown == Some(s.generation)
        })
        .await;

        let mut echo = Vec::new();
        let mut preview = Vec::new();
        for i in 0..SAMPLES {
            let (code, chars) = if i % 2 == 0 {
                (KeyCode::Char('x'), full + 1)
            } else {
                (KeyCode::Backspace, full)
            };
            let start = Instant::now();
            send(code);
            let shown = wait_for(&mut seen_rx, "the keystroke's frame", |s| {
                s.prompt_chars == chars
            })
            .await;
            echo.push(shown.at.unwrap() - start);
            let read = wait_for(&mut seen_rx, "the preview frame", |s| {
                s.prompt_chars == chars && s.shown == Some(s.generation)
            })
            .await;
            preview.push(read.at.unwrap() - start);
        }
        // Separately: keys read in one go are a burst, and one that closes the
        // dialog drops the keys after it.
        send(KeyCode::Esc);
        wait_for(&mut seen_rx, "the dialog to close", |s| !s.dialog).await;
        send(KeyCode::Char('q'));
        task.await.unwrap();
        (echo, preview)
    });
    println!("prompt: {} characters", PROMPT.chars().count());
    summary("reading (rules provider + review + tree)", reads);
    summary("the review alone", reviews);
    summary("keystroke -> frame showing it", echo);
    summary(
        &format!(
            "keystroke -> preview frame (incl. {} ms debounce)",
            DEBOUNCE.as_millis()
        ),
        preview.clone(),
    );
    summary(
        "keystroke -> preview frame, minus the debounce",
        preview
            .into_iter()
            .map(|d| d.saturating_sub(DEBOUNCE))
            .collect(),
    );
    let _ = std::process::Command::new(env!("CARGO_BIN_EXE_apiforge"))
        .env("APIFORGE_HOME", home.path())
        .args(["db", "stop"])
        .output();
}
