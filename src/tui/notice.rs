//! Notices: what the status bar tells the user (info, warnings, errors). Each expires
//! after a while; errors stay longer. Every error reaches the user through
//! [`Notices::push`], called by `State::report`, the one helper that also writes
//! the log line.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    /// How long a notice of this level stays up.
    pub fn lifetime(self) -> Duration {
        match self {
            Level::Info => Duration::from_secs(4),
            Level::Warn => Duration::from_secs(8),
            Level::Error => Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: u64,
    pub level: Level,
    pub text: String,
}

/// The notices currently up, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notices {
    pub items: Vec<Notice>,
    next_id: u64,
}

/// At most this many notices are kept; older ones make room.
const MAX_NOTICES: usize = 20;

impl Notices {
    /// Adds a notice and returns its id (for its expiry).
    pub fn push(&mut self, level: Level, text: impl Into<String>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.items.push(Notice {
            id,
            level,
            text: text.into(),
        });
        if self.items.len() > MAX_NOTICES {
            self.items.remove(0);
        }
        id
    }

    pub fn expire(&mut self, id: u64) {
        self.items.retain(|n| n.id != id);
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// What the status bar shows: the most severe notice, the newest among equals.
    pub fn headline(&self) -> Option<&Notice> {
        self.items.iter().max_by_key(|n| n.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_is_the_most_severe_then_newest() {
        let mut n = Notices::default();
        assert!(n.headline().is_none());
        let a = n.push(Level::Info, "a");
        n.push(Level::Error, "b");
        n.push(Level::Warn, "c");
        assert_eq!(n.headline().map(|x| x.text.as_str()), Some("b"));
        n.push(Level::Error, "d");
        assert_eq!(n.headline().map(|x| x.text.as_str()), Some("d"));
        n.expire(a);
        assert_eq!(n.items.len(), 3);
        for i in 0..30 {
            n.push(Level::Info, format!("{i}"));
        }
        assert_eq!(n.items.len(), MAX_NOTICES);
    }
}
