//! A session token: 256 random bits, shown to its holder once and stored only as its
//! SHA-256 hash. Postgres derives the current user from it (`apiforge_current_user()`).

use std::fmt;

use rand::Rng;
use sha2::{Digest, Sha256};

#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Accepts a token read back from storage; `None` unless it has the exact shape
    /// `generate` produces.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        (t.len() == 64
            && t.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| Self(t.to_owned()))
    }

    /// The raw secret, for `set_config('apiforge.session', …)` and the token file.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores: SHA-256 of the token's UTF-8 text, matching
    /// `sha256(convert_to(token, 'UTF8'))` in SQL.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_redacted() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert_eq!(SessionToken::parse(a.expose()), Some(a.clone()));
        assert_eq!(a.hash().len(), 32);
    }

    #[test]
    fn parse_rejects_other_shapes() {
        assert!(SessionToken::parse("").is_none());
        assert!(SessionToken::parse("abc").is_none());
        assert!(SessionToken::parse(&"G".repeat(64)).is_none());
        assert!(SessionToken::parse(&"A".repeat(64)).is_none());
    }
}
