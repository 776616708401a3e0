//! A burst: the terminal events the input task read without waiting — the one it
//! waited for and every one already queued behind it. A person types one key per
//! read; a terminal that does not bracket pastes delivers a paste as one burst. The
//! app treats a burst's text as pasted text, so its line breaks never submit a dialog
//! and its letters never run as keys ([`super::message::Message::Burst`]).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A stretch of a burst: text keys (letters, Enter, Tab) and pastes joined into one
/// string, or an event that is not text (Esc, Backspace, an arrow, a Ctrl key, a
/// resize), kept as it came.
#[derive(Debug, Clone, PartialEq)]
pub enum BurstPart {
    Text(String),
    Event(Event),
}

/// The burst as text stretches and other events, in order.
pub fn parts(events: Vec<Event>) -> Vec<BurstPart> {
    let mut parts = Vec::new();
    for event in events {
        let text = match &event {
            Event::Key(key) if key.kind == KeyEventKind::Release => continue,
            Event::Key(key) => key_text(key),
            Event::Paste(text) => Some(text.clone()),
            _ => None,
        };
        match (text, parts.last_mut()) {
            (Some(text), Some(BurstPart::Text(run))) => run.push_str(&text),
            (Some(text), _) => parts.push(BurstPart::Text(text)),
            (None, _) => parts.push(BurstPart::Event(event)),
        }
    }
    parts
}

/// What a key types when it is part of pasted text.
fn key_text(key: &KeyEvent) -> Option<String> {
    // A raw LF reads as Ctrl-J: a line break when it comes with text.
    if key.code == KeyCode::Char('j') && key.modifiers == KeyModifiers::CONTROL {
        return Some("\n".to_owned());
    }
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    match key.code {
        KeyCode::Char(c) => Some(c.to_string()),
        KeyCode::Enter => Some("\n".to_owned()),
        KeyCode::Tab => Some("\t".to_owned()),
        _ => None,
    }
}

/// The keys the rest of a burst holds (a text stretch counts its characters), for the
/// notice that says how many were ignored.
pub fn keys_in(parts: impl IntoIterator<Item = BurstPart>) -> usize {
    parts
        .into_iter()
        .map(|part| match part {
            BurstPart::Text(text) => text.chars().count(),
            BurstPart::Event(Event::Key(_)) => 1,
            BurstPart::Event(_) => 0,
        })
        .sum()
}

/// Key presses in the burst (releases and other events do not count).
pub fn key_count(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Key(k) if k.kind != KeyEventKind::Release))
        .count()
}

/// The most keys a burst may hold and still run on the keymap: a person pressing
/// keys quickly (or tmux / SSH passing them on together) sends two or three at once;
/// a paste sends more.
pub const KEYMAP_KEYS: usize = 3;

/// Whether a burst that arrives while nothing takes text may run on the keymap, key
/// by key: a held key, or a few keys. A longer burst is pasted text whose letters
/// would run as commands.
pub fn runs_on_keymap(events: &[Event]) -> bool {
    is_repeat(events)
        || (key_count(events) <= KEYMAP_KEYS
            && !events.iter().any(|e| matches!(e, Event::Paste(_))))
}

/// Whether the burst is one key pressed again and again (a held key the UI was too
/// busy to read one at a time): the only burst the keymap may run.
pub fn is_repeat(events: &[Event]) -> bool {
    let mut keys = events.iter().filter_map(|e| match e {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some((k.code, k.modifiers)),
        _ => None,
    });
    let Some(first) = keys.next() else {
        return true;
    };
    !events.iter().any(|e| matches!(e, Event::Paste(_))) && keys.all(|k| k == first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> Event {
        Event::Key(KeyEvent::from(code))
    }

    #[test]
    fn text_keys_join_and_other_keys_stay_events() {
        let events = vec![
            key(KeyCode::Char('a')),
            key(KeyCode::Enter),
            key(KeyCode::Tab),
            Event::Paste("b".into()),
            key(KeyCode::Esc),
            Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            key(KeyCode::Char('d')),
            Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::CONTROL)),
            Event::Resize(80, 24),
        ];
        assert_eq!(
            parts(events),
            vec![
                BurstPart::Text("a\n\tb".into()),
                BurstPart::Event(key(KeyCode::Esc)),
                BurstPart::Event(Event::Key(KeyEvent::new(
                    KeyCode::Char('c'),
                    KeyModifiers::CONTROL
                ))),
                BurstPart::Text("d\n".into()),
                BurstPart::Event(Event::Resize(80, 24)),
            ]
        );
    }

    #[test]
    fn only_one_key_again_and_again_is_a_repeat() {
        let j = key(KeyCode::Char('j'));
        assert!(is_repeat(&[
            j.clone(),
            j.clone(),
            Event::Resize(1, 1),
            j.clone()
        ]));
        assert!(!is_repeat(&[j.clone(), key(KeyCode::Char('k'))]));
        assert!(!is_repeat(&[j.clone(), Event::Paste("j".into())]));
        assert_eq!(key_count(&[j.clone(), Event::Resize(1, 1), j]), 2);
    }
}
