//! The real binary in a real terminal (tmux): open the UI with a private
//! APIFORGE_HOME, create a project from a prompt, wait until the log pane shows its
//! tests passed, edit a file and save it as a new version, send a request from the
//! preview pane, quit; paste prompts full of keymap letters, bracketed and as plain
//! keys, and prove only the intended jobs ran. Skipped with a message when tmux is not
//! installed (never in CI).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use crate::support::{ApiforgeHome, apiforge_bin, test_runtimes_dir, wait_until};

struct Tmux {
    session: String,
}

impl Tmux {
    fn available() -> bool {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found || std::env::var_os("CI").is_none(),
            "CI must install tmux (.ci/run does)"
        );
        found
    }

    fn start(home: &ApiforgeHome, width: u16, height: u16) -> Self {
        Self::start_with_gateway(home, width, height, "127.0.0.1:0")
    }

    fn start_with_gateway(home: &ApiforgeHome, width: u16, height: u16, gateway: &str) -> Self {
        static SESSIONS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let session = format!(
            "apiforge-e2e-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        // The shell line keeps the environment explicit: tmux servers do not pass the
        // caller's environment to new sessions.
        let line = format!(
            "env -u DATABASE_URL APIFORGE_HOME='{}' APIFORGE_RUNTIMES_DIR='{}' APIFORGE_DEPLOY_GATEWAY_ADDR='{gateway}' '{}'; echo apiforge-exited-$?; sleep 600",
            home.path().display(),
            test_runtimes_dir().display(),
            apiforge_bin()
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &line,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Self { session }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .arg("send-keys")
            .arg("-t")
            .arg(&self.session)
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-l", "-t", &self.session, text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Pastes `text` the way a terminal does: through a tmux buffer, bracketed
    /// (`paste-buffer -p`: tmux adds the markers only when the app asked for them).
    fn paste(&self, text: &str) {
        let buffer = format!("{}-paste", self.session);
        let mut load = Command::new("tmux")
            .args(["load-buffer", "-b", &buffer, "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut load.stdin.take().unwrap(), text.as_bytes()).unwrap();
        assert!(load.wait().unwrap().success(), "tmux load-buffer failed");
        let status = Command::new("tmux")
            .args([
                "paste-buffer",
                "-p",
                "-d",
                "-b",
                &buffer,
                "-t",
                &self.session,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "tmux paste-buffer failed");
    }

    fn wait_for(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
        let mut last = String::new();
        let deadline = std::time::Instant::now() + timeout;
        wait_until(timeout, what, || {
            last = self.screen();
            let ok = check(&last);
            if !ok && std::time::Instant::now() + Duration::from_millis(100) >= deadline {
                eprintln!("screen while waiting for {what}:\n{last}");
            }
            ok
        });
    }
}

/// A free loopback address for the deploy gateway.
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The UI starts `apiforge serve` in the background for a deploy; it outlives the UI
/// by design, so the test stops it.
struct StopDaemon<'a>(&'a ApiforgeHome);

impl Drop for StopDaemon<'_> {
    fn drop(&mut self) {
        let _ = self.0.command().args(["serve", "stop"]).output();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

#[test]
fn create_a_project_in_the_real_terminal_and_quit() {
    if !Tmux::available() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let home = ApiforgeHome::new();
    let gateway = free_addr();
    let _daemon = StopDaemon(&home);
    let tmux = Tmux::start_with_gateway(&home, 120, 40, &gateway);
    tmux.wait_for("the UI with its database", Duration::from_secs(120), |s| {
        s.contains("No projects yet") && s.contains("db: local")
    });
    tmux.keys(&["n"]);
    tmux.wait_for("the new project dialog", Duration::from_secs(10), |s| {
        s.contains("Describe the API")
    });
    tmux.text("a library API: books with title, author and year");
    // Enter read together with the text would be part of it (a line break, not a
    // submit): press it once the text is in.
    tmux.wait_for("the prompt typed", Duration::from_secs(10), |s| {
        s.contains("author and year")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for(
        "the tests passed in the log pane",
        Duration::from_secs(300),
        |s| s.contains("✓ v1 passing") || s.contains("✗ failed"),
    );
    let screen = tmux.screen();
    assert!(screen.contains("✓ v1 passing"), "{screen}");
    assert!(screen.contains("✓ library"), "{screen}");

    // The editor: README.md is the 19th row of the generated FastAPI tree.
    tmux.keys(&["2"]);
    tmux.wait_for("the file tree", Duration::from_secs(30), |s| {
        s.contains("Editor · library v1") && s.contains("README.md")
    });
    for _ in 0..18 {
        tmux.keys(&["j"]);
    }
    tmux.keys(&["Enter"]);
    tmux.text("Edited in the TUI. ");
    tmux.wait_for("the edit marked unsaved", Duration::from_secs(10), |s| {
        s.contains("README.md ●") && s.contains("Edited in the TUI.")
    });
    // Escape on its own: followed at once by another key, a terminal reads Alt-key.
    tmux.keys(&["Escape"]);
    tmux.wait_for(
        "the editor back in the tree",
        Duration::from_secs(10),
        |s| s.contains("Enter edit") && !s.contains("EDIT ·"),
    );
    tmux.keys(&["C-s"]);
    tmux.wait_for(
        "the save tested as a new version",
        Duration::from_secs(300),
        |s| s.contains("✓ v2 passing") || s.contains("✗ failed"),
    );
    let screen = tmux.screen();
    assert!(screen.contains("✓ v2 passing"), "{screen}");
    assert!(screen.contains("Editor · library v2"), "{screen}");

    // The preview: open POST /books (the second operation) and send its example.
    tmux.keys(&["3", "j", "Enter"]);
    tmux.wait_for("the request form", Duration::from_secs(10), |s| {
        s.contains("POST /books") && s.contains("s send")
    });
    tmux.keys(&["s"]);
    tmux.wait_for(
        "the response from the sandboxed server",
        Duration::from_secs(120),
        |s| s.contains("201 Created") || s.contains("failed"),
    );
    let screen = tmux.screen();
    assert!(screen.contains("201 Created"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the endpoint list again", Duration::from_secs(10), |s| {
        s.contains("Enter open")
    });

    // Deploy from the projects pane: the log shows the live route, which answers.
    tmux.keys(&["1", "d"]);
    tmux.wait_for("the deploy job", Duration::from_secs(180), |s| {
        s.contains("v2 live · /p/") || s.contains("✗ failed")
    });
    let screen = tmux.screen();
    let route: String = screen[screen.find("/p/").expect("a route")..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '│')
        .collect();
    let url = format!("http://{gateway}{route}books");
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", &url])
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(
        answer.ends_with("\n200"),
        "GET {url}: {answer}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(answer.starts_with(r#"{"items":[]"#), "GET {url}: {answer}");
    tmux.keys(&["q"]);
    tmux.wait_for("the UI to exit cleanly", Duration::from_secs(30), |s| {
        s.contains("apiforge-exited-0")
    });
}

/// Multi-line prompts whose letters are keymap actions (n new project, r rollback,
/// d deploy, x delete, g iterate, q quit): pasted, they must only ever be text.
const PASTED: [&str; 2] = [
    "a library API: books with title, author and year\nreaders with name and email\n",
    "Bookstore API with books (title, isbn unique, price, stock) and publishers (name, country).\nEach book belongs to a publisher.\nPaginate books and search books by title.\n",
];

#[test]
fn pasted_prompts_create_exactly_their_projects_and_run_no_keys() {
    if !Tmux::available() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let home = ApiforgeHome::new();
    let _daemon = StopDaemon(&home);
    let tmux = Tmux::start(&home, 120, 40);
    tmux.wait_for("the UI with its database", Duration::from_secs(120), |s| {
        s.contains("No projects yet") && s.contains("db: local")
    });

    // The UI asked for bracketed paste: a paste with no dialog open arrives as one
    // (tmux adds the markers only when asked) and is ignored whole — as plain keys it
    // would be dropped as a burst, with another notice.
    tmux.paste("quit, then roll back and deploy\n");
    tmux.wait_for("the ignored paste", Duration::from_secs(10), |s| {
        s.contains("the paste was ignored")
    });

    // Bracketed: the terminal marks the paste; the first line's break is no Enter.
    tmux.keys(&["n"]);
    tmux.wait_for("the new project dialog", Duration::from_secs(10), |s| {
        s.contains("Describe the API")
    });
    tmux.paste(PASTED[0]);
    tmux.wait_for("both lines in the prompt", Duration::from_secs(10), |s| {
        s.contains("Describe the API") && s.contains("readers with name and email")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first project's tests", Duration::from_secs(300), |s| {
        s.contains("✓ v1 passing") || s.contains("✗ failed") || s.contains("failing")
    });
    let screen = tmux.screen();
    assert!(screen.contains("✓ v1 passing"), "{screen}");

    // Plain keys, as a terminal without bracketed paste sends them (a line break is
    // CR, the Enter key): now a project with a version is selected, so a leaked d or
    // r would deploy or roll it back.
    tmux.keys(&["n"]);
    tmux.wait_for("the new project dialog", Duration::from_secs(10), |s| {
        s.contains("Describe the API")
    });
    tmux.text(&PASTED[1].replace('\n', "\r"));
    tmux.wait_for("both lines in the prompt", Duration::from_secs(10), |s| {
        s.contains("Describe the API") && s.contains("search books by title")
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for(
        "the second project's tests",
        Duration::from_secs(300),
        |s| {
            s.matches("✓ v1 passing").count() >= 2
                || s.contains("✗ failed")
                || s.contains("failing")
        },
    );
    let screen = tmux.screen();
    assert_eq!(screen.matches("✓ v1 passing").count(), 2, "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("the UI to exit cleanly", Duration::from_secs(30), |s| {
        s.contains("apiforge-exited-0")
    });
    // Bracketed paste was switched off on the way out: the shell's terminal echoes a
    // paste without the markers.
    tmux.paste("after-exit");
    tmux.wait_for(
        "the paste echoed by the shell's terminal",
        Duration::from_secs(10),
        |s| s.contains("after-exit"),
    );
    let screen = tmux.screen();
    assert!(!screen.contains("[200~"), "{screen}");

    let jobs = home.json(&["jobs", "--all", "--json"]);
    let jobs = jobs.as_array().unwrap();
    let mut prompts: Vec<&str> = jobs
        .iter()
        .map(|j| {
            assert_eq!(
                j["kind"], "generate",
                "only the two generate jobs: {jobs:?}"
            );
            assert_eq!(j["state"], "succeeded", "{j}");
            j["input"]["prompt"].as_str().unwrap()
        })
        .collect();
    prompts.sort_unstable();
    let mut expected: Vec<&str> = PASTED.iter().map(|p| p.trim()).collect();
    expected.sort_unstable();
    assert_eq!(prompts, expected, "each prompt whole, in one job");
    let projects = home.json(&["projects", "--json"]);
    assert_eq!(projects.as_array().unwrap().len(), 2, "{projects}");
    let deployments = home.json(&["deployments", "--json"]);
    assert_eq!(
        deployments.as_array().map(Vec::len),
        Some(0),
        "{deployments}"
    );
}

#[test]
fn a_broken_config_file_is_a_notice_in_the_open_ui() {
    if !Tmux::available() {
        eprintln!("skipped: tmux is not installed (apt-get install tmux)");
        return;
    }
    let home = ApiforgeHome::new();
    let config_dir = home.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("config.toml"), "[tui]\nthem = \"dark\"\n").unwrap();
    let tmux = Tmux::start(&home, 200, 30);
    tmux.wait_for(
        "the config problem as a notice",
        Duration::from_secs(60),
        |s| s.contains("tui.them") && s.contains("built-in settings"),
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the UI to exit cleanly", Duration::from_secs(30), |s| {
        s.contains("apiforge-exited-0")
    });
}

#[test]
fn without_a_terminal_the_ui_explains_and_exits_2() {
    let home = ApiforgeHome::new();
    let out = home
        .command()
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a terminal"), "{stderr}");
}
