//! A curl command line that sends exactly the request a check sent.

use crate::sandbox::http::{HttpRequest, HttpTarget};

/// `curl -sS -i …` for `request` against `target`; Unix sockets use `--unix-socket`.
pub(crate) fn command(target: &HttpTarget, request: &HttpRequest) -> String {
    let mut parts = vec!["curl -sS -i".to_owned()];
    if request.method != "GET" {
        parts.push(format!("-X {}", request.method));
    }
    let url = match target {
        HttpTarget::Unix(socket) => {
            parts.push(format!(
                "--unix-socket {}",
                quote(&socket.display().to_string())
            ));
            format!("http://localhost{}", request.path)
        }
        HttpTarget::Tcp(addr) => format!("http://{addr}{}", request.path),
    };
    parts.push(quote(&url));
    for (name, value) in &request.headers {
        parts.push(format!("-H {}", quote(&format!("{name}: {value}"))));
    }
    if !request.body.is_empty() {
        parts.push(format!(
            "--data-raw {}",
            quote(&String::from_utf8_lossy(&request.body))
        ));
    }
    parts.join(" ")
}

/// Single-quoted for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_requests_use_unix_socket_and_quote_bodies() {
        let request =
            HttpRequest::new("POST", "/notes").json(&serde_json::json!({"title": "it's"}));
        let cmd = command(&HttpTarget::Unix("/tmp/ws/app.sock".into()), &request);
        assert_eq!(
            cmd,
            r#"curl -sS -i -X POST --unix-socket '/tmp/ws/app.sock' 'http://localhost/notes' -H 'content-type: application/json' --data-raw '{"title":"it'\''s"}'"#
        );
    }
}
