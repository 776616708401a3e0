use chrono::DateTime;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::*;
use crate::db::projects::Project;

const MAIN_PY: &str = r#"from fastapi import FastAPI, HTTPException

from app.models import Item

app = FastAPI(title="bakery")
ITEMS: dict[int, Item] = {}


@app.get("/items")
def list_items() -> list[Item]:
    """Every item, oldest first."""
    return list(ITEMS.values())


@app.post("/items", status_code=201)
def create_item(item: Item) -> Item:
    item.id = len(ITEMS) + 1
    ITEMS[item.id] = item
    return item


@app.get("/items/{item_id}")
def get_item(item_id: int) -> Item:
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="no such item")
    return ITEMS[item_id]
"#;

const MODELS_PY: &str = "from pydantic import BaseModel\n\n\nclass Item(BaseModel):\n    id: int | None = None\n    name: str\n    price: float\n";

fn files() -> GeneratedFiles {
    [
        ("app/main.py", MAIN_PY),
        ("app/models.py", MODELS_PY),
        ("app/__init__.py", ""),
        (
            "tests/test_items.py",
            "def test_list(client):\n    assert client.get(\"/items\").status_code == 200\n",
        ),
        ("requirements.txt", "fastapi\nuvicorn\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"bakery\"\nversion = \"0.1.0\"\n",
        ),
        ("README.md", "# bakery\n\nAn API for a bakery.\n"),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_owned(), c.to_owned()))
    .collect()
}

fn project() -> Project {
    Project {
        id: Uuid::from_u128(0x1234),
        owner_id: Uuid::from_u128(0x99),
        slug: "bakery".into(),
        name: "bakery".into(),
        description: String::new(),
        framework: "fastapi".into(),
        provider: "rules".into(),
        status: "passing".into(),
        latest_version: Some(3),
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    }
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

fn ctrl_key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn press(editor: &mut Editor, keys: &[KeyEvent]) -> Vec<Outcome<EditorRequest>> {
    keys.iter().map(|k| editor.handle_key(*k)).collect()
}

fn typed(editor: &mut Editor, text: &str) {
    for c in text.chars() {
        assert_eq!(editor.handle_key(ch(c)), Outcome::Consumed);
    }
}

fn loaded() -> Editor {
    let mut editor = Editor::new();
    let request = editor.load(&project());
    assert_eq!(
        request,
        Some(EditorRequest::Load {
            project: project().id,
            version: 3
        })
    );
    editor.apply(EditorResult::Loaded {
        project: project().id,
        version: 3,
        files: files(),
    });
    editor
}

fn selected(editor: &Editor) -> Option<String> {
    editor.tree.selected().map(|r| r.path.clone())
}

/// Moves the tree selection to `path` with j/k, as a user would.
fn go_to(editor: &mut Editor, path: &str) {
    press(editor, &[ch('g')]);
    for _ in 0..editor.tree.rows().len() {
        if selected(editor).as_deref() == Some(path) {
            return;
        }
        press(editor, &[ch('j')]);
    }
    panic!("{path} is not in the tree");
}

fn open_for_edit(editor: &mut Editor, path: &str) {
    go_to(editor, path);
    assert_eq!(editor.handle_key(key(KeyCode::Enter)), Outcome::Consumed);
    assert_eq!(editor.open_file(), Some(path));
    assert!(editor.captures_input());
}

fn content(editor: &Editor, path: &str) -> String {
    editor
        .buffer(path)
        .map(FileBuffer::content)
        .unwrap_or_default()
}

#[test]
fn loading_shows_the_version_tree_with_directories_first() {
    let editor = loaded();
    let rows: Vec<&str> = editor.tree.rows().iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        rows,
        [
            "app",
            "app/__init__.py",
            "app/main.py",
            "app/models.py",
            "tests",
            "tests/test_items.py",
            "README.md",
            "pyproject.toml",
            "requirements.txt"
        ]
    );
    assert!(!editor.captures_input());
    assert!(!editor.has_unsaved());
    assert_eq!(editor.version(), Some(3));
}

#[test]
fn a_project_without_versions_loads_nothing() {
    let mut editor = Editor::new();
    let mut p = project();
    p.latest_version = None;
    assert_eq!(editor.load(&p), None);
    assert_eq!(editor.handle_key(ch('j')), Outcome::Ignored);
}

#[test]
fn results_for_another_project_or_version_are_ignored() {
    let mut editor = Editor::new();
    editor.load(&project());
    editor.apply(EditorResult::Loaded {
        project: project().id,
        version: 2,
        files: files(),
    });
    assert_eq!(editor.loading, LoadState::Loading);
    editor.apply(EditorResult::LoadFailed {
        project: project().id,
        version: 3,
        message: "the database is down".into(),
    });
    assert_eq!(
        editor.loading,
        LoadState::Failed("the database is down".into())
    );
    assert_eq!(
        editor.handle_key(ch('r')),
        Outcome::Request(EditorRequest::Load {
            project: project().id,
            version: 3
        })
    );
    assert_eq!(editor.loading, LoadState::Loading);
    assert_eq!(editor.handle_key(ch('r')), Outcome::Ignored);
}

#[test]
fn tree_keys_move_collapse_and_expand() {
    let mut editor = loaded();
    assert_eq!(selected(&editor).as_deref(), Some("app"));
    press(&mut editor, &[ch('j'), ch('j')]);
    assert_eq!(selected(&editor).as_deref(), Some("app/main.py"));
    press(&mut editor, &[key(KeyCode::Up)]);
    assert_eq!(selected(&editor).as_deref(), Some("app/__init__.py"));
    press(&mut editor, &[ch('G')]);
    assert_eq!(selected(&editor).as_deref(), Some("requirements.txt"));
    press(&mut editor, &[ch('g'), key(KeyCode::Enter)]);
    assert_eq!(editor.tree.rows().len(), 6, "app/ collapsed");
    assert!(!editor.captures_input());
    press(&mut editor, &[ch('l')]);
    assert_eq!(editor.tree.rows().len(), 9);
    press(&mut editor, &[ch('j'), ch('h')]);
    assert_eq!(selected(&editor).as_deref(), Some("app"));
}

#[test]
fn keys_the_editor_does_not_use_are_left_to_the_app() {
    let mut editor = loaded();
    assert_eq!(editor.handle_key(ch('q')), Outcome::Ignored);
    assert_eq!(editor.handle_key(key(KeyCode::Tab)), Outcome::Ignored);
    assert_eq!(editor.handle_key(ctrl_key('c')), Outcome::Ignored);
    // `/` and n need an open file.
    assert_eq!(editor.handle_key(ch('/')), Outcome::Ignored);
    let release = KeyEvent {
        kind: KeyEventKind::Release,
        ..ch('j')
    };
    assert_eq!(editor.handle_key(release), Outcome::Ignored);
}

#[test]
fn enter_on_a_file_edits_it_and_esc_returns_to_the_tree() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "app/models.py");
    typed(&mut editor, "# hi\n");
    assert!(editor.captures_input());
    assert_eq!(
        editor.handle_key(ctrl_key('c')),
        Outcome::Ignored,
        "the app's quit key"
    );
    assert_eq!(editor.handle_key(key(KeyCode::Esc)), Outcome::Consumed);
    assert!(!editor.captures_input());
    assert_eq!(
        content(&editor, "app/models.py"),
        format!("# hi\n{MODELS_PY}")
    );
    assert!(editor.has_unsaved());
    assert_eq!(editor.dirty_files(), ["app/models.py"]);
    // `i` edits too, where the cursor was.
    assert_eq!(editor.handle_key(ch('i')), Outcome::Consumed);
    typed(&mut editor, "x");
    assert!(content(&editor, "app/models.py").starts_with("# hi\nxfrom"));
}

#[test]
fn o_views_a_file_without_editing_it() {
    let mut editor = loaded();
    go_to(&mut editor, "README.md");
    assert_eq!(editor.handle_key(ch('o')), Outcome::Consumed);
    assert_eq!(editor.open_file(), Some("README.md"));
    assert!(!editor.captures_input());
    assert_eq!(editor.handle_key(ch('x')), Outcome::Ignored);
    assert!(!editor.has_unsaved());
}

#[test]
fn undoing_every_edit_makes_the_file_clean_again() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "requirements.txt");
    typed(&mut editor, "ab");
    assert!(editor.has_unsaved());
    press(
        &mut editor,
        &[key(KeyCode::Backspace), key(KeyCode::Backspace)],
    );
    assert!(!editor.has_unsaved());
}

#[test]
fn switching_files_keeps_the_edits_of_each() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "app/main.py");
    typed(&mut editor, "# main\n");
    press(&mut editor, &[key(KeyCode::Esc)]);
    open_for_edit(&mut editor, "requirements.txt");
    typed(&mut editor, "httpx\n");
    press(&mut editor, &[key(KeyCode::Esc)]);
    open_for_edit(&mut editor, "app/main.py");
    assert_eq!(
        content(&editor, "app/main.py"),
        format!("# main\n{MAIN_PY}")
    );
    // The cursor is where it was left.
    typed(&mut editor, "#");
    assert!(content(&editor, "app/main.py").starts_with("# main\n#from fastapi"));
    assert_eq!(editor.dirty_files(), ["app/main.py", "requirements.txt"]);
}

#[test]
fn search_finds_matches_forward_and_back_and_says_when_there_is_none() {
    let mut editor = loaded();
    go_to(&mut editor, "app/main.py");
    press(&mut editor, &[ch('o'), ch('/')]);
    assert!(editor.captures_input(), "typing the search");
    typed(&mut editor, "ITEMS[");
    press(&mut editor, &[key(KeyCode::Enter)]);
    assert!(!editor.captures_input());
    let cursor = |e: &Editor| e.buffer("app/main.py").map(|b| b.textarea.cursor());
    use ratatui_textarea::DataCursor;
    assert_eq!(cursor(&editor), Some(DataCursor(17, 4)));
    press(&mut editor, &[ch('n')]);
    assert_eq!(cursor(&editor), Some(DataCursor(25, 11)));
    press(&mut editor, &[ch('N')]);
    assert_eq!(cursor(&editor), Some(DataCursor(17, 4)));
    // Backspace edits the query; Esc cancels without moving.
    press(
        &mut editor,
        &[ch('/'), ch('z'), key(KeyCode::Backspace), key(KeyCode::Esc)],
    );
    assert_eq!(cursor(&editor), Some(DataCursor(17, 4)));
    press(&mut editor, &[ch('/')]);
    typed(&mut editor, "nowhere");
    press(&mut editor, &[key(KeyCode::Enter)]);
    assert_eq!(cursor(&editor), Some(DataCursor(17, 4)));
    assert_eq!(
        editor.notice,
        Some((Severity::Info, "no match for \"nowhere\"".into()))
    );
}

#[test]
fn ctrl_f_searches_while_editing_and_returns_to_editing() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "app/main.py");
    press(&mut editor, &[ctrl_key('f')]);
    typed(&mut editor, "HTTPException(");
    press(&mut editor, &[key(KeyCode::Enter)]);
    assert!(editor.captures_input());
    assert_eq!(editor.mode, Mode::Edit);
    assert_eq!(
        editor.buffer("app/main.py").map(|b| b.textarea.cursor().0),
        Some(24)
    );
}

#[test]
fn ctrl_s_saves_every_file_with_the_edits_applied() {
    let mut editor = loaded();
    assert_eq!(
        editor.handle_key(ctrl_key('s')),
        Outcome::Consumed,
        "nothing to save"
    );
    open_for_edit(&mut editor, "requirements.txt");
    typed(&mut editor, "httpx\n");
    let Outcome::Request(EditorRequest::Save {
        project,
        parent_version,
        files: saved,
        message,
    }) = editor.handle_key(ctrl_key('s'))
    else {
        panic!("Ctrl-S while editing asks for a save");
    };
    assert_eq!(project, super::tests::project().id);
    assert_eq!(parent_version, 3);
    assert_eq!(message, "edited requirements.txt");
    let mut expected = files();
    expected.insert(
        "requirements.txt".into(),
        "httpx\nfastapi\nuvicorn\n".into(),
    );
    assert_eq!(saved, expected);
    // A second save waits for the first.
    assert_eq!(editor.handle_key(ctrl_key('s')), Outcome::Consumed);
    // Until the job succeeds the edits count as unsaved.
    editor.apply(EditorResult::SaveSubmitted {
        job: 41,
        warning: None,
    });
    assert!(editor.has_unsaved());
    typed(&mut editor, "later ");
    editor.apply(EditorResult::Saved {
        job: 40,
        version: 9,
    });
    assert_eq!(editor.version(), Some(3), "another job's result");
    editor.apply(EditorResult::Saved {
        job: 41,
        version: 4,
    });
    assert_eq!(editor.version(), Some(4));
    // What was typed after submitting is still unsaved, measured against v4.
    assert_eq!(editor.dirty_files(), ["requirements.txt"]);
    let Outcome::Request(EditorRequest::Save {
        parent_version,
        files: saved,
        ..
    }) = editor.handle_key(ctrl_key('s'))
    else {
        panic!("the later edit can be saved");
    };
    assert_eq!(parent_version, 4);
    assert_eq!(saved["requirements.txt"], "httpx\nlater fastapi\nuvicorn\n");
}

#[test]
fn a_failed_save_keeps_the_edits_and_can_be_retried() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "README.md");
    typed(&mut editor, "x");
    assert!(matches!(
        editor.handle_key(ctrl_key('s')),
        Outcome::Request(EditorRequest::Save { .. })
    ));
    editor.apply(EditorResult::SaveFailed {
        message: "the tests could not start".into(),
    });
    assert_eq!(editor.dirty_files(), ["README.md"]);
    assert!(matches!(
        editor.handle_key(ctrl_key('s')),
        Outcome::Request(EditorRequest::Save { .. })
    ));
}

#[test]
fn loading_another_project_starts_clean() {
    let mut editor = loaded();
    open_for_edit(&mut editor, "README.md");
    typed(&mut editor, "x");
    let mut other = project();
    other.id = Uuid::from_u128(7);
    other.latest_version = Some(1);
    assert!(editor.load(&other).is_some());
    assert!(!editor.has_unsaved());
    assert!(!editor.captures_input());
    assert_eq!(editor.project(), Some(other.id));
}

fn draw(editor: &mut Editor, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test backend");
    let theme = Theme::dark();
    terminal
        .draw(|frame| editor.render(frame, frame.area(), &theme, true))
        .expect("drawing into memory");
    terminal
}

/// The fixture for the snapshots: main.py edited (a dirty marker), a search for
/// "item" highlighted, the cursor on a match.
fn snapshot_editor() -> Editor {
    let mut editor = loaded();
    open_for_edit(&mut editor, "app/main.py");
    typed(&mut editor, "# edited\n");
    press(&mut editor, &[ctrl_key('f')]);
    typed(&mut editor, "item");
    press(&mut editor, &[key(KeyCode::Enter)]);
    editor
}

#[test]
fn snapshot_80x24() {
    let mut editor = snapshot_editor();
    insta::assert_snapshot!(draw(&mut editor, 80, 24).backend());
}

#[test]
fn snapshot_120x40() {
    let mut editor = snapshot_editor();
    insta::assert_snapshot!(draw(&mut editor, 120, 40).backend());
}

#[test]
fn snapshot_search_prompt_80x24() {
    let mut editor = loaded();
    go_to(&mut editor, "app/models.py");
    press(&mut editor, &[ch('o'), ch('/')]);
    typed(&mut editor, "price");
    insta::assert_snapshot!(draw(&mut editor, 80, 24).backend());
}

#[test]
fn snapshot_load_failure_80x24() {
    let mut editor = Editor::new();
    editor.load(&project());
    editor.apply(EditorResult::LoadFailed {
        project: project().id,
        version: 3,
        message: "the database at /run/apiforge is not running; start it with `apiforge db start`"
            .into(),
    });
    insta::assert_snapshot!(draw(&mut editor, 80, 24).backend());
}

fn fg_at(terminal: &Terminal<TestBackend>, x: u16, y: u16) -> Option<Color> {
    terminal
        .backend()
        .buffer()
        .cell((x, y))
        .and_then(|c| c.fg.into())
}

fn find(terminal: &Terminal<TestBackend>, text: &str) -> (u16, u16) {
    let buffer = terminal.backend().buffer();
    for y in 0..buffer.area.height {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect();
        if let Some(i) = row.find(text) {
            let x = row[..i].chars().count();
            return (u16::try_from(x).expect("a narrow screen"), y);
        }
    }
    panic!("{text:?} is not on screen");
}

#[test]
fn the_drawn_code_is_highlighted_and_marks_matches_and_the_cursor() {
    let mut editor = snapshot_editor();
    let terminal = draw(&mut editor, 120, 40);
    let (x, y) = find(&terminal, "def list_items");
    let keyword = fg_at(&terminal, x, y);
    let name = fg_at(&terminal, x + 4, y);
    assert!(matches!(keyword, Some(Color::Rgb(..))));
    assert_ne!(keyword, name, "`def` and the function name differ");
    let (x, y) = find(&terminal, "\"no such item\"");
    assert!(matches!(fg_at(&terminal, x + 1, y), Some(Color::Rgb(..))));
    // Matches of "item" are reversed; the cursor sits on the first one after line 2.
    let buffer = terminal.backend().buffer();
    let reversed = |x: u16, y: u16| {
        buffer[(x, y)]
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    };
    let (x, y) = find(&terminal, "item_id: int");
    assert!(reversed(x, y) && reversed(x + 3, y) && !reversed(x + 4, y));
    // The cursor is on the first match after the edited line, at "/items": drawn
    // and where the terminal's cursor is.
    let (x, y) = find(&terminal, "@app.get(\"/items\")");
    let cursor = (x + 11, y);
    assert!(!reversed(cursor.0, cursor.1) && reversed(cursor.0 + 1, cursor.1));
    assert_eq!(terminal.backend().cursor_position(), cursor.into());
}

fn keyword_colour(terminal: &Terminal<TestBackend>) -> Option<Color> {
    let (x, y) = find(terminal, "def list_items");
    fg_at(terminal, x, y)
}

#[test]
fn the_theme_changes_the_code_colours() {
    let mut editor = snapshot_editor();
    let dark = draw(&mut editor, 120, 40);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("a test backend");
    let mut light = Theme::dark();
    light.syntax = "InspiredGitHub".into();
    terminal
        .draw(|frame| editor.render(frame, frame.area(), &light, true))
        .expect("drawing into memory");
    assert_ne!(keyword_colour(&dark), keyword_colour(&terminal));
}

/// The style runs of screen rows `rows`: text with its colour and modifiers, so the
/// highlighting, the search matches and the cursor show in a snapshot.
fn style_runs(terminal: &Terminal<TestBackend>, rows: std::ops::Range<u16>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in rows {
        let mut runs: Vec<(String, String)> = Vec::new();
        for x in 0..buffer.area.width {
            let cell = &buffer[(x, y)];
            let style = format!("{:?} {:?}", cell.fg, cell.modifier);
            match runs.last_mut() {
                Some((text, s)) if *s == style => text.push_str(cell.symbol()),
                _ => runs.push((cell.symbol().to_owned(), style)),
            }
        }
        for (text, style) in runs {
            if !text.trim().is_empty() {
                out.push_str(&format!("{y:>2} {text:?} {style}\n"));
            }
        }
    }
    out
}

#[test]
fn snapshot_highlighting_120x40() {
    let mut editor = snapshot_editor();
    let terminal = draw(&mut editor, 120, 40);
    // The decorator, the function with its docstring, and the cursor's line.
    insta::assert_snapshot!(style_runs(&terminal, 10..14));
}

#[test]
fn a_paste_goes_into_the_edited_file_as_one_edit_and_into_the_search_as_one_line() {
    let mut editor = loaded();
    assert!(!editor.paste("ignored"), "the tree takes no text");
    open_for_edit(&mut editor, "requirements.txt");
    // Terminals send a pasted line break as CR.
    assert!(editor.paste("httpx\r\npydantic\r"));
    assert_eq!(
        content(&editor, "requirements.txt"),
        "httpx\npydantic\nfastapi\nuvicorn\n"
    );
    assert!(editor.has_unsaved());
    // One edit: one undo takes it all back.
    press(&mut editor, &[ctrl_key('u')]);
    assert_eq!(content(&editor, "requirements.txt"), "fastapi\nuvicorn\n");
    assert!(!editor.has_unsaved());

    press(&mut editor, &[ctrl_key('f')]);
    assert!(editor.paste("uvi\r\ncorn\n"));
    assert!(
        matches!(&editor.mode, Mode::Search { query, .. } if query == "uvi corn"),
        "{:?}",
        editor.mode
    );
}
