//! Credentials the checker presents to an API with auth: an API key it chose, or an
//! HS256 JWT it signs with a secret it chose. Both are handed to the server through
//! its environment (`API_KEY` / `JWT_SECRET`, or the names the design gives).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the server is given (an env var) and what a client must send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credentials {
    /// Send `header: key`; the server reads the key from `env_var`.
    ApiKey {
        header: String,
        env_var: String,
        key: String,
    },
    /// Send `Authorization: Bearer <token>`; the token is signed with the secret the
    /// server reads from `env_var`.
    BearerJwt { env_var: String, secret: String },
}

impl Credentials {
    /// Fresh random credentials for an API key read from `env_var`.
    pub fn api_key(header: impl Into<String>, env_var: impl Into<String>) -> Self {
        Credentials::ApiKey {
            header: header.into(),
            env_var: env_var.into(),
            key: format!("apiforge-check-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// A fresh random signing secret read from `env_var`.
    pub fn bearer_jwt(env_var: impl Into<String>) -> Self {
        Credentials::BearerJwt {
            env_var: env_var.into(),
            secret: format!("apiforge-check-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The variable and value to put in the server's environment.
    pub fn server_env(&self) -> (&str, &str) {
        match self {
            Credentials::ApiKey { env_var, key, .. } => (env_var, key),
            Credentials::BearerJwt { env_var, secret } => (env_var, secret),
        }
    }

    /// The header an authorised request carries.
    pub fn header(&self) -> (String, String) {
        match self {
            Credentials::ApiKey { header, key, .. } => (header.clone(), key.clone()),
            Credentials::BearerJwt { secret, .. } => (
                "authorization".to_owned(),
                format!("Bearer {}", mint_jwt(secret, "apiforge-check", 3600)),
            ),
        }
    }

    /// The same header with a value the server must refuse.
    pub fn wrong_header(&self) -> (String, String) {
        match self {
            Credentials::ApiKey { header, .. } => (header.clone(), "wrong-key".to_owned()),
            Credentials::BearerJwt { .. } => (
                "authorization".to_owned(),
                format!(
                    "Bearer {}",
                    mint_jwt("not-the-secret", "apiforge-check", 3600)
                ),
            ),
        }
    }
}

/// An HS256 JWT for `subject`, valid for `ttl_secs` from now.
pub fn mint_jwt(secret: &str, subject: &str, ttl_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({ "sub": subject, "iat": now, "exp": now + ttl_secs });
    let payload = base64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = hmac_sha256(secret.as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", base64url(&signature))
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// Base64url without padding (RFC 4648 §5), as JWTs use.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_have_three_parts_and_an_hs256_header() {
        let token = mint_jwt("s", "me", 60);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    }
}
