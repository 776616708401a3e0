//! Where the chat-completions API lives and what it expects from us: the normalised
//! base URL, whether it needs a key, and which dialect quirks apply.

use std::net::IpAddr;

use reqwest::Url;

/// A validated `provider.openai.base_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Without a trailing slash: async-openai appends `/chat/completions` verbatim.
    base_url: String,
    host: String,
    self_hosted: bool,
    azure: bool,
    openai: bool,
}

impl Endpoint {
    /// Parses a base URL; the error is a sentence about what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim().trim_end_matches('/');
        let url = Url::parse(trimmed).map_err(|e| {
            format!(
                "provider.openai.base_url {trimmed:?} is not a URL ({e}); use e.g. \
                 https://api.openai.com/v1 or http://127.0.0.1:11434/v1"
            )
        })?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!(
                "provider.openai.base_url {trimmed:?} must start with http:// or https://"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            // The client appends `/chat/completions` to the base URL, which would land
            // after a query string (Azure's classic `?api-version=` deployment URLs).
            return Err(format!(
                "provider.openai.base_url {trimmed:?} has a query string; use a plain base URL \
                 such as https://RESOURCE.openai.azure.com/openai/v1 (Azure's v1 API)"
            ));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if host.is_empty() {
            return Err(format!(
                "provider.openai.base_url {trimmed:?} names no host; use e.g. https://api.openai.com/v1"
            ));
        }
        let self_hosted = url.scheme() == "http" || is_private_host(&host);
        let azure = host.ends_with(".azure.com") || host.ends_with(".azure-api.net");
        let openai = host == "api.openai.com";
        Ok(Self {
            base_url: trimmed.to_owned(),
            host,
            self_hosted,
            azure,
            openai,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Self-hosted servers (Ollama, vLLM, llama.cpp) usually run without a key: plain
    /// http, loopback and private addresses are treated as such.
    pub fn needs_key(&self) -> bool {
        !self.self_hosted
    }

    /// Azure expects the key in an `api-key` header as well as (v1 API) a bearer token.
    pub fn is_azure(&self) -> bool {
        self.azure
    }

    /// api.openai.com itself (organisation and project headers apply only there).
    pub fn is_openai(&self) -> bool {
        self.openai
    }

    /// OpenAI's own service rejects `max_tokens` for reasoning models and wants
    /// `max_completion_tokens`; most self-hosted servers only know `max_tokens`.
    pub fn wants_max_completion_tokens(&self) -> bool {
        self.openai || self.azure
    }
}

fn is_private_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(IpAddr::V6(ip)) => {
            ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_slashes_are_removed() {
        let e = Endpoint::parse(" http://127.0.0.1:8080/v1/ ").expect("valid URL");
        assert_eq!(e.base_url(), "http://127.0.0.1:8080/v1");
        let e = Endpoint::parse("https://api.openai.com/v1").expect("valid URL");
        assert_eq!(e.base_url(), "https://api.openai.com/v1");
    }

    #[test]
    fn public_https_needs_a_key_and_local_servers_do_not() {
        let cases = [
            ("https://api.openai.com/v1", true),
            ("https://example.openai.azure.com/openai/v1", true),
            ("http://127.0.0.1:11434/v1", false),
            ("https://localhost:8443/v1", false),
            ("https://192.168.1.20/v1", false),
            ("https://[::1]:8000/v1", false),
            ("http://gpu-box.example.com:8000/v1", false),
        ];
        for (url, needs) in cases {
            let e = Endpoint::parse(url).expect("valid URL");
            assert_eq!(e.needs_key(), needs, "{url}");
        }
    }

    #[test]
    fn dialects_are_recognised() {
        let azure = Endpoint::parse("https://acme.openai.azure.com/openai/v1").expect("valid");
        assert!(azure.is_azure());
        assert!(azure.wants_max_completion_tokens());
        let ollama = Endpoint::parse("http://127.0.0.1:11434/v1").expect("valid");
        assert!(!ollama.is_azure());
        assert!(!ollama.wants_max_completion_tokens());
    }

    #[test]
    fn bad_urls_are_explained() {
        for raw in [
            "",
            "api.openai.com/v1",
            "ftp://x/v1",
            "http://",
            "https://acme.openai.azure.com/openai/deployments/gpt?api-version=2024-06-01",
        ] {
            let err = Endpoint::parse(raw).expect_err("invalid URL");
            assert!(err.contains("provider.openai.base_url"), "{err}");
        }
    }
}
