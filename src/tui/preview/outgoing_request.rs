//! A request the person built in the Endpoints tab, where it goes, and the same
//! request as a curl command line.

use serde::{Deserialize, Serialize};

use crate::sandbox::http::HttpRequest;

/// Where requests from the preview go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// The project's sandbox server, started on demand.
    Sandbox,
    /// A deployment, by base URL (`https://bakery.example.com`).
    Url(String),
}

/// Method, path with query, headers and body, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingRequest {
    pub method: String,
    /// Path and query, starting with `/`, already percent-encoded.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// JSON text, empty for none.
    pub body: String,
}

impl OutgoingRequest {
    /// The same request with `header` added (an auth header the executor knows).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn to_http(&self) -> HttpRequest {
        HttpRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            headers: self.headers.clone(),
            body: self.body.clone().into_bytes(),
        }
    }

    /// A curl command that sends this request to `socket` (a sandbox server's Unix
    /// socket) or to `base_url`; every argument is quoted for a POSIX shell.
    pub fn curl(&self, endpoint: &CurlEndpoint<'_>) -> String {
        let mut parts = vec!["curl".to_owned(), "-sS".to_owned(), "-i".to_owned()];
        if self.method != "GET" {
            parts.push("-X".to_owned());
            parts.push(quote(&self.method));
        }
        let url = match endpoint {
            CurlEndpoint::Socket(socket) => {
                parts.push("--unix-socket".to_owned());
                parts.push(quote(&socket.display().to_string()));
                format!("http://localhost{}", self.path)
            }
            CurlEndpoint::Url(base) => format!("{}{}", base.trim_end_matches('/'), self.path),
        };
        parts.push(quote(&url));
        for (name, value) in &self.headers {
            parts.push("-H".to_owned());
            parts.push(quote(&format!("{name}: {value}")));
        }
        if !self.body.is_empty() {
            parts.push("--data-raw".to_owned());
            parts.push(quote(&self.body));
        }
        parts.join(" ")
    }
}

/// Where a curl command points.
#[derive(Debug, Clone, Copy)]
pub enum CurlEndpoint<'a> {
    Socket(&'a std::path::Path),
    Url(&'a str),
}

/// `s` as one word for a POSIX shell: single quotes, with each `'` written as `'\''`
/// (nothing is special inside single quotes except the quote itself).
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_in_sh(words: &str) -> Vec<String> {
        // The real shell decides whether the quoting is right: it must hand printf
        // exactly the words we meant.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {words}"))
            .output()
            .unwrap_or_else(|e| panic!("sh: {e}"));
        assert!(out.status.success());
        String::from_utf8(out.stdout)
            .unwrap_or_else(|e| panic!("{e}"))
            .split('\0')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn quoting_survives_a_real_shell() {
        for word in [
            "plain",
            "it's",
            "a b",
            "$HOME `id` $(id) \\ \" ; & | > < * ? ~ # !",
            "'",
            "''",
            "line\nbreak",
            "ünïcødé",
            "{\"title\":\"O'Brien\"}",
        ] {
            assert_eq!(run_in_sh(&quote(word)), vec![word.to_owned()], "{word:?}");
        }
        assert_eq!(quote(""), "''");
        assert_eq!(quote("http://h:8080/notes"), "http://h:8080/notes");
        assert_eq!(quote("/notes?limit=2"), "'/notes?limit=2'", "? would glob");
    }

    #[test]
    fn curl_for_a_socket_and_a_url() {
        let request = OutgoingRequest {
            method: "POST".into(),
            path: "/notes?tag=a%20b".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: r#"{"title":"it's"}"#.into(),
        };
        let socket = std::path::Path::new("/tmp/ws one/app.sock");
        assert_eq!(
            request.curl(&CurlEndpoint::Socket(socket)),
            r#"curl -sS -i -X POST --unix-socket '/tmp/ws one/app.sock' 'http://localhost/notes?tag=a%20b' -H 'content-type: application/json' --data-raw '{"title":"it'\''s"}'"#
        );
        let words = run_in_sh(&request.curl(&CurlEndpoint::Url("https://api.example.com/")));
        assert_eq!(
            words,
            [
                "curl",
                "-sS",
                "-i",
                "-X",
                "POST",
                "https://api.example.com/notes?tag=a%20b",
                "-H",
                "content-type: application/json",
                "--data-raw",
                r#"{"title":"it's"}"#
            ]
        );
        let get = OutgoingRequest {
            method: "GET".into(),
            path: "/notes".into(),
            headers: Vec::new(),
            body: String::new(),
        };
        assert_eq!(
            get.curl(&CurlEndpoint::Url("http://h:8080")),
            "curl -sS -i http://h:8080/notes"
        );
    }
}
