//! The `openai` provider: asks any OpenAI-compatible chat-completions endpoint
//! (OpenAI, Azure OpenAI v1, Ollama, vLLM, llama.cpp server) for an [`ApiDesign`].
//!
//! One [`OpenAiProvider::design`] call is a small conversation: the system prompt
//! (IR rules plus the ApiDesign JSON Schema, also sent as a non-strict
//! `response_format`), the request, then — while the answer does not parse or does
//! not validate — the answer and its problems sent back for at most `max_repairs`
//! repairs. It stops early when the same problem comes back twice in a row or the
//! token budget would be exceeded. [`OpenAiProvider::repair`] is the same conversation
//! started from a valid design whose generated project failed its sandboxed tests,
//! with the failures as the repair request (the pipeline's `repair` rounds call it).
//! Each HTTP call has a timeout and is retried with backoff on 429, 5xx and connection
//! failures. The API key is sent only in headers and is scrubbed from every error
//! message.

mod backoff;
mod conversation;
mod endpoint;
mod reply;
mod transport;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionStreamOptions, CreateChatCompletionRequest, FinishReason, ResponseFormat,
    ResponseFormatJsonSchema,
};
use futures::StreamExt;
use reqwest::StatusCode;

pub use backoff::Backoff;
pub use endpoint::Endpoint;

use conversation::Conversation;
use reply::Reply;
use transport::{StatusError, Transport};

use crate::config::{OpenAiConfig, ProviderConfig};
use crate::design::ApiDesign;
use crate::doctor::Check;
use crate::provider::{DesignRequest, ProviderEvent};

/// Streamed progress is reported at most once per this many new characters.
const STREAM_REPORT_CHARS: usize = 64;

/// Why the `openai` provider produced no design. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenAiError {
    #[error(
        "no API key for {base_url}: set the environment variable {env_var} to your key \
         (provider.openai.api_key_env names the variable)"
    )]
    NotConfigured { base_url: String, env_var: String },
    #[error("the openai provider is misconfigured: {0}")]
    InvalidConfig(String),
    #[error(
        "cannot reach {base_url} ({attempts} attempt(s)): {detail}; check provider.openai.base_url \
         and that the server is running"
    )]
    Unreachable {
        base_url: String,
        attempts: u32,
        detail: String,
    },
    #[error(
        "{base_url} did not answer (or stopped sending) for {}s; check that the server is \
         healthy or raise provider.openai.timeout_secs", timeout.as_secs_f64()
    )]
    Timeout { base_url: String, timeout: Duration },
    #[error(
        "{base_url} kept rate-limiting the request (HTTP 429, {attempts} attempt(s)): {detail}; \
         wait a minute and try again, or raise provider.openai.max_retries"
    )]
    RateLimited {
        base_url: String,
        attempts: u32,
        detail: String,
    },
    #[error("{base_url} answered HTTP {status} ({attempts} attempt(s)): {detail}{hint}")]
    Server {
        base_url: String,
        status: u16,
        attempts: u32,
        detail: String,
        hint: &'static str,
    },
    #[error("{base_url} sent a reply that is not a chat completion: {detail}")]
    BadResponse { base_url: String, detail: String },
    #[error("the model declined the request: {0}")]
    Refused(String),
    #[error(
        "the reply was cut off at provider.openai.max_tokens ({max_tokens} tokens) before the \
         design was complete; raise max_tokens or ask for a smaller API"
    )]
    Truncated { max_tokens: u32 },
    #[error(
        "the model's design was still invalid after {repairs} repair(s); last problems:\n{errors}\n\
         Rephrase the prompt, try a stronger model, or raise provider.openai.max_repairs"
    )]
    InvalidOutput { repairs: u32, errors: String },
    #[error(
        "the model made the same mistake twice in a row, so repairing stopped after {repairs} \
         repair(s):\n{errors}\nRephrase the prompt or try another model"
    )]
    SameFailureTwice { repairs: u32, errors: String },
    #[error(
        "stopped before repair {next_repair}: the design has used {used} of its {budget} token \
         budget and another round would exceed it; last problems:\n{errors}\nRaise \
         provider.openai.max_tokens (the budget is max_tokens × (max_repairs + 1) × 2)"
    )]
    TokenBudget {
        used: u64,
        budget: u64,
        next_repair: u32,
        errors: String,
    },
}

/// A design the model produced and what producing it cost.
#[derive(Debug, Clone)]
pub struct Designed {
    pub design: ApiDesign,
    /// Tokens of every call it took (prompt + completion), as the server reported them
    /// or estimated when it reported none.
    pub tokens: u64,
}

/// The API key, kept out of `Debug` output.
#[derive(Clone)]
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// Installs ring as the process-wide rustls crypto provider so https works
/// (reqwest is built without a provider of its own). Safe to call more than once; a
/// provider installed earlier by someone else is kept.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub struct OpenAiProvider {
    client: Client<OpenAIConfig>,
    endpoint: Endpoint,
    model: String,
    key: Option<ApiKey>,
    max_repairs: u32,
    max_tokens: u32,
    max_retries: u32,
    stream: bool,
    timeout: Duration,
    backoff: Backoff,
    token_budget: u64,
    system_prompt: String,
    schema: serde_json::Value,
    /// Cleared when the server rejects `response_format`; the reply is then parsed
    /// from plain content, which the system prompt already asks to be JSON.
    send_schema: AtomicBool,
}

impl fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("base_url", &self.endpoint.base_url())
            .field("model", &self.model)
            .field("key", &self.key)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

type Validate<'a> = &'a (dyn Fn(&ApiDesign) -> Result<(), String> + Sync);
type OnEvent<'a> = &'a mut (dyn FnMut(ProviderEvent) + Send);

/// Why one HTTP call produced no reply.
enum AttemptError {
    TimedOut,
    Api(OpenAIError),
}

/// The doctor's verdict on `provider.openai` (offline: the server is not contacted).
/// A problem fails the check only when `openai` is the default provider.
pub fn check(config: &ProviderConfig) -> Check {
    const NAME: &str = "llm provider";
    let is_default = config.default.trim().eq_ignore_ascii_case("openai");
    match OpenAiProvider::from_config(&config.openai) {
        Ok(provider) => Check::ok(
            NAME,
            format!(
                "openai-compatible: {} ({}), {}",
                provider.endpoint.base_url(),
                provider.model,
                if provider.key.is_some() {
                    format!("key from ${}", config.openai.api_key_env)
                } else {
                    "no key (self-hosted)".to_owned()
                }
            ),
        ),
        Err(error) if is_default => Check::fail(
            NAME,
            format!("provider \"openai\" is the default but unusable: {error}"),
            "fix provider.openai in the config, or set provider.default = \"rules\"",
        ),
        Err(error) => Check::warn(
            NAME,
            format!("the built-in rules provider is used; openai is not ready: {error}"),
            "optional: configure provider.openai and use --provider openai",
        ),
    }
}

/// How one HTTP call failed, for the retry decision.
enum CallFailure {
    Retry(Transient),
    /// The server refused `response_format`; resend without it.
    SchemaRejected,
    Fatal(OpenAiError),
}

/// Failures worth retrying.
enum Transient {
    RateLimited {
        retry_after: Option<Duration>,
        detail: String,
    },
    Server {
        status: StatusCode,
        retry_after: Option<Duration>,
        detail: String,
    },
    Connection(String),
}

impl OpenAiProvider {
    /// A provider from `provider.openai`, reading the key from the environment variable
    /// named by `api_key_env`.
    pub fn from_config(config: &OpenAiConfig) -> Result<Self, OpenAiError> {
        check_env_var_name(&config.api_key_env)?;
        let key = std::env::var(&config.api_key_env).ok();
        Self::with_api_key(config, key)
    }

    /// A provider from `provider.openai` with the key given directly (`None` or empty:
    /// no key, which only self-hosted endpoints accept).
    pub fn with_api_key(config: &OpenAiConfig, key: Option<String>) -> Result<Self, OpenAiError> {
        check_env_var_name(&config.api_key_env)?;
        let endpoint = Endpoint::parse(&config.base_url).map_err(OpenAiError::InvalidConfig)?;
        let model = config.model.trim().to_owned();
        if model.is_empty() {
            return Err(OpenAiError::InvalidConfig(
                "provider.openai.model is empty; name the model, e.g. \"gpt-4o-mini\" or \"llama3.1\""
                    .to_owned(),
            ));
        }
        if config.timeout_secs == 0 {
            return Err(OpenAiError::InvalidConfig(
                "provider.openai.timeout_secs is 0; give the seconds a call may take, e.g. 120"
                    .to_owned(),
            ));
        }
        if config.max_tokens == 0 {
            return Err(OpenAiError::InvalidConfig(
                "provider.openai.max_tokens is 0; allow e.g. 8000 tokens per call".to_owned(),
            ));
        }
        let key = key
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(ApiKey);
        if key.is_none() && endpoint.needs_key() {
            return Err(OpenAiError::NotConfigured {
                base_url: endpoint.base_url().to_owned(),
                env_var: config.api_key_env.clone(),
            });
        }
        if let Some(ApiKey(k)) = &key {
            // async-openai panics on a header value it cannot encode; never echo the key.
            if !k.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(OpenAiError::InvalidConfig(format!(
                    "the API key in {} contains spaces or non-ASCII characters; paste the key \
                     again without quotes or line breaks",
                    config.api_key_env
                )));
            }
        }

        install_crypto_provider();
        let timeout = Duration::from_secs(config.timeout_secs);
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .build()
            .map_err(|e| {
                OpenAiError::InvalidConfig(format!("cannot set up the HTTP client: {e}"))
            })?;
        let mut openai_config = OpenAIConfig::new()
            .with_api_base(endpoint.base_url())
            .with_api_key(key.as_ref().map_or("", |k| k.0.as_str()));
        if !endpoint.is_openai() {
            // OpenAIConfig::new() reads OPENAI_ORG_ID / OPENAI_PROJECT_ID; they belong to
            // api.openai.com and must not be sent anywhere else.
            openai_config = openai_config.with_org_id("").with_project_id("");
        }
        if endpoint.is_azure()
            && let Some(ApiKey(k)) = &key
        {
            openai_config = openai_config
                .with_header("api-key", k.as_str())
                .map_err(|_| {
                    OpenAiError::InvalidConfig(format!(
                        "the API key in {} cannot be sent as an HTTP header",
                        config.api_key_env
                    ))
                })?;
        }
        let client =
            Client::build(http.clone(), openai_config).with_http_service(Transport::new(http));

        let schema = conversation::design_schema();
        let token_budget = u64::from(config.max_tokens)
            .saturating_mul(u64::from(config.max_repairs) + 1)
            .saturating_mul(2);
        Ok(Self {
            client,
            endpoint,
            model,
            key,
            max_repairs: config.max_repairs,
            max_tokens: config.max_tokens,
            max_retries: config.max_retries,
            stream: config.stream,
            timeout,
            backoff: Backoff::default(),
            token_budget,
            system_prompt: conversation::system_prompt(&schema),
            schema,
            send_schema: AtomicBool::new(true),
        })
    }

    /// Replaces the retry backoff (tests and impatient callers).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Replaces the per-call timeout set by `timeout_secs` (finer than whole seconds).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the total token budget of one `design` call (prompt + completion tokens
    /// over all calls). Default: `max_tokens × (max_repairs + 1) × 2`, because each call
    /// may produce up to `max_tokens` and sends a prompt of comparable size.
    pub fn with_token_budget(mut self, tokens: u64) -> Self {
        self.token_budget = tokens;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn token_budget(&self) -> u64 {
        self.token_budget
    }

    /// Turns `request` into a design that parses and passes `validate` (the lead wires
    /// in `design::validate`, rendering its problems one per line).
    pub async fn design(
        &self,
        request: DesignRequest<'_>,
        validate: Validate<'_>,
        on_event: OnEvent<'_>,
    ) -> Result<ApiDesign, OpenAiError> {
        let conversation = Conversation::new(&self.system_prompt, request);
        on_event(ProviderEvent::Progress {
            message: format!("asking {} at {}", self.model, self.endpoint.host()),
        });
        Ok(self
            .converse(conversation, validate, on_event)
            .await?
            .design)
    }

    /// Asks the model to fix `failed`, a valid design whose generated project failed
    /// its sandboxed tests: a new conversation that carries the request, the failed
    /// design as the model's earlier answer and `failures` (already trimmed), then runs
    /// exactly like [`Self::design`] — the validation repairs, loop detection, token
    /// budget and retries all apply to the answer.
    pub async fn repair(
        &self,
        request: DesignRequest<'_>,
        failed: &ApiDesign,
        failures: &str,
        validate: Validate<'_>,
        on_event: OnEvent<'_>,
    ) -> Result<Designed, OpenAiError> {
        let mut conversation = Conversation::new(&self.system_prompt, request);
        conversation.push_test_failures(&failed.to_json_pretty(), failures);
        on_event(ProviderEvent::Progress {
            message: format!(
                "asking {} at {} to fix the failing tests",
                self.model,
                self.endpoint.host()
            ),
        });
        self.converse(conversation, validate, on_event).await
    }

    /// Sends `conversation` and, while the answer does not parse or validate, the
    /// answer and its problems, within `max_repairs` and the token budget.
    async fn converse(
        &self,
        mut conversation: Conversation,
        validate: Validate<'_>,
        on_event: OnEvent<'_>,
    ) -> Result<Designed, OpenAiError> {
        let mut used: u64 = 0;
        let mut repairs: u32 = 0;
        let mut last_problems: Option<String> = None;
        loop {
            let reply = self.complete(&conversation, on_event).await?;
            used = used.saturating_add(reply.tokens);
            tracing::info!(
                model = %self.model,
                tokens = reply.tokens,
                usage_reported = reply.usage_reported,
                used,
                budget = self.token_budget,
                "openai reply received"
            );
            if let Some(refusal) = &reply.refusal
                && reply.content.trim().is_empty()
            {
                return Err(OpenAiError::Refused(self.redact(refusal)));
            }
            if reply.truncated {
                return Err(OpenAiError::Truncated {
                    max_tokens: self.max_tokens,
                });
            }
            let problems = match reply.design() {
                Ok(design) => match validate(&design) {
                    Ok(()) => {
                        on_event(ProviderEvent::Progress {
                            message: format!(
                                "design ready ({} resource(s), {used} tokens)",
                                design.resources.len()
                            ),
                        });
                        return Ok(Designed {
                            design,
                            tokens: used,
                        });
                    }
                    Err(problems) => problems,
                },
                Err(problems) => problems,
            };
            let problems = problems.trim().to_owned();
            tracing::warn!(repairs, problems = %problems, "openai design rejected");
            if last_problems.as_deref() == Some(problems.as_str()) {
                return Err(OpenAiError::SameFailureTwice {
                    repairs,
                    errors: problems,
                });
            }
            if repairs >= self.max_repairs {
                return Err(OpenAiError::InvalidOutput {
                    repairs,
                    errors: problems,
                });
            }
            // The repair call resends everything plus the answer, so it costs at least
            // as much as the call before it.
            if used.saturating_add(reply.tokens) > self.token_budget {
                return Err(OpenAiError::TokenBudget {
                    used,
                    budget: self.token_budget,
                    next_repair: repairs + 1,
                    errors: problems,
                });
            }
            repairs += 1;
            on_event(ProviderEvent::Progress {
                message: format!(
                    "repair {repairs} of {}: {}",
                    self.max_repairs,
                    problems.lines().next().unwrap_or_default()
                ),
            });
            conversation.push_repair(&reply.content, &problems);
            last_problems = Some(problems);
        }
    }

    /// One completion, retried on 429 / 5xx / connection failures.
    async fn complete(
        &self,
        conversation: &Conversation,
        on_event: OnEvent<'_>,
    ) -> Result<Reply, OpenAiError> {
        let mut retries: u32 = 0;
        loop {
            let failure = match self.call_once(conversation, on_event).await {
                Ok(reply) => return Ok(reply),
                Err(AttemptError::TimedOut) => {
                    tracing::warn!(base_url = %self.endpoint.base_url(), timeout = ?self.timeout, "openai call timed out");
                    // Not retried: a server that hangs once usually hangs again, and
                    // retrying would multiply the wait by max_retries.
                    return Err(OpenAiError::Timeout {
                        base_url: self.endpoint.base_url().to_owned(),
                        timeout: self.timeout,
                    });
                }
                Err(AttemptError::Api(error)) => self.classify(error),
            };
            let transient = match failure {
                CallFailure::Fatal(error) => return Err(error),
                CallFailure::SchemaRejected => {
                    on_event(ProviderEvent::Progress {
                        message:
                            "the server does not support response_format; asking for plain JSON"
                                .to_owned(),
                    });
                    continue;
                }
                CallFailure::Retry(transient) => transient,
            };
            let attempts = retries + 1;
            let (retry_after, what) = match &transient {
                Transient::RateLimited {
                    retry_after,
                    detail,
                } => (*retry_after, format!("rate limited (429): {detail}")),
                Transient::Server {
                    status,
                    retry_after,
                    detail,
                } => (*retry_after, format!("server error ({status}): {detail}")),
                Transient::Connection(detail) => (None, format!("connection failed: {detail}")),
            };
            tracing::warn!(attempts, problem = %what, "openai call failed");
            if retries >= self.max_retries {
                return Err(self.give_up(transient, attempts));
            }
            let delay = self.backoff.delay(retries, retry_after);
            retries += 1;
            on_event(ProviderEvent::Progress {
                message: format!(
                    "{what}; retry {retries} of {} in {:.1}s",
                    self.max_retries,
                    delay.as_secs_f64()
                ),
            });
            tokio::time::sleep(delay).await;
        }
    }

    fn give_up(&self, transient: Transient, attempts: u32) -> OpenAiError {
        let base_url = self.endpoint.base_url().to_owned();
        match transient {
            Transient::RateLimited { detail, .. } => OpenAiError::RateLimited {
                base_url,
                attempts,
                detail,
            },
            Transient::Server { status, detail, .. } => OpenAiError::Server {
                base_url,
                status: status.as_u16(),
                attempts,
                detail,
                hint: "; the server is failing, try again later",
            },
            Transient::Connection(detail) => OpenAiError::Unreachable {
                base_url,
                attempts,
                detail,
            },
        }
    }

    fn request(&self, conversation: &Conversation) -> CreateChatCompletionRequest {
        let response_format = self.send_schema.load(Ordering::Relaxed).then(|| {
            ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: Some("An apiforge ApiDesign".to_owned()),
                    name: "api_design".to_owned(),
                    schema: self.schema.clone(),
                    // schemars output uses optional properties and open `default`
                    // values, which strict mode rejects.
                    strict: Some(false),
                },
            }
        });
        let mut request = CreateChatCompletionRequest {
            messages: conversation.messages().to_vec(),
            model: self.model.clone(),
            response_format,
            ..Default::default()
        };
        if self.endpoint.wants_max_completion_tokens() {
            request.max_completion_tokens = Some(self.max_tokens);
        } else {
            // Self-hosted servers (Ollama, llama.cpp, older vLLM) only read `max_tokens`.
            #[allow(deprecated)]
            {
                request.max_tokens = Some(self.max_tokens);
            }
        }
        if self.stream {
            request.stream = Some(true);
            request.stream_options = Some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            });
        }
        request
    }

    /// Runs `step` under the call timeout.
    async fn within<T>(
        &self,
        step: impl Future<Output = Result<T, OpenAIError>>,
    ) -> Result<T, AttemptError> {
        match tokio::time::timeout(self.timeout, step).await {
            Ok(result) => result.map_err(AttemptError::Api),
            Err(_elapsed) => Err(AttemptError::TimedOut),
        }
    }

    /// One HTTP call. The timeout bounds the wait for the answer and, when streaming,
    /// each silence between chunks — not the whole stream, which for a large design on
    /// a slow local model legitimately takes minutes.
    async fn call_once(
        &self,
        conversation: &Conversation,
        on_event: OnEvent<'_>,
    ) -> Result<Reply, AttemptError> {
        let request = self.request(conversation);
        tracing::debug!(
            base_url = %self.endpoint.base_url(),
            model = %self.model,
            stream = self.stream,
            messages = conversation.messages().len(),
            "openai chat completion"
        );
        let mut reply = Reply::default();
        let mut usage = None;
        if self.stream {
            let mut stream = self
                .within(self.client.chat().create_stream(request))
                .await?;
            let mut chars = 0usize;
            let mut reported = 0usize;
            loop {
                let next = tokio::time::timeout(self.timeout, stream.next())
                    .await
                    .map_err(|_elapsed| AttemptError::TimedOut)?;
                let Some(chunk) = next else { break };
                let chunk = chunk.map_err(AttemptError::Api)?;
                if chunk.usage.is_some() {
                    usage = chunk.usage;
                }
                for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
                    if let Some(text) = choice.delta.content {
                        chars += text.chars().count();
                        reply.content.push_str(&text);
                    }
                    if let Some(refusal) = choice.delta.refusal {
                        reply.refusal.get_or_insert_default().push_str(&refusal);
                    }
                    if choice.finish_reason == Some(FinishReason::Length) {
                        reply.truncated = true;
                    }
                }
                // The first characters show the model is alive; after that, report in
                // steps so a long design does not flood the log pane.
                let first = reported == 0 && chars > 0;
                if first || chars >= reported + STREAM_REPORT_CHARS {
                    reported = chars;
                    on_event(ProviderEvent::Streamed { chars });
                }
            }
            if chars != reported {
                on_event(ProviderEvent::Streamed { chars });
            }
        } else {
            let response = self.within(self.client.chat().create(request)).await?;
            usage = response.usage;
            if let Some(choice) = response.choices.into_iter().find(|c| c.index == 0) {
                reply.content = choice.message.content.unwrap_or_default();
                reply.refusal = choice.message.refusal;
                reply.truncated = choice.finish_reason == Some(FinishReason::Length);
            }
        }
        match usage {
            Some(usage) => {
                reply.tokens = u64::from(usage.total_tokens);
                reply.usage_reported = true;
            }
            None => {
                reply.tokens =
                    conversation.estimated_tokens() + (reply.content.len() as u64).div_ceil(4);
            }
        }
        Ok(reply)
    }

    fn classify(&self, error: OpenAIError) -> CallFailure {
        let base_url = self.endpoint.base_url().to_owned();
        match error {
            OpenAIError::Boxed(boxed) => match boxed.downcast::<StatusError>() {
                Ok(status_error) => self.classify_status(*status_error),
                Err(other) => {
                    CallFailure::Retry(Transient::Connection(self.redact(&error_chain(&*other))))
                }
            },
            OpenAIError::ApiError(api) => self.classify_status(StatusError {
                status: api.status_code,
                retry_after: None,
                message: api.api_error.message.clone(),
                kind: api.api_error.r#type.clone(),
            }),
            OpenAIError::Reqwest(e) if e.is_timeout() => CallFailure::Fatal(OpenAiError::Timeout {
                base_url,
                timeout: self.timeout,
            }),
            OpenAIError::Reqwest(e) => {
                CallFailure::Retry(Transient::Connection(self.redact(&error_chain(&e))))
            }
            OpenAIError::StreamError(e) => CallFailure::Retry(Transient::Connection(
                self.redact(&format!("the stream broke off: {e}")),
            )),
            OpenAIError::JSONDeserialize(e, content) => {
                // Servers report mid-stream failures as `data: {"error": ...}`.
                let (message, _) = transport::describe_body(content.as_bytes());
                let detail = if content.contains("\"error\"") {
                    format!("the server reported an error: {message}")
                } else {
                    format!("{e} in {message:?}")
                };
                CallFailure::Fatal(OpenAiError::BadResponse {
                    base_url,
                    detail: self.redact(&detail),
                })
            }
            other => CallFailure::Fatal(OpenAiError::BadResponse {
                base_url,
                detail: self.redact(&other.to_string()),
            }),
        }
    }

    fn classify_status(&self, error: StatusError) -> CallFailure {
        let detail = self.redact(&error.message);
        let status = error.status;
        let code = status.as_u16();
        if code == 429 && error.kind.as_deref() != Some("insufficient_quota") {
            return CallFailure::Retry(Transient::RateLimited {
                retry_after: error.retry_after,
                detail,
            });
        }
        if status.is_server_error() || code == 408 {
            return CallFailure::Retry(Transient::Server {
                status,
                retry_after: error.retry_after,
                detail,
            });
        }
        let lower = detail.to_ascii_lowercase();
        if (code == 400 || code == 422)
            && (lower.contains("response_format") || lower.contains("json_schema"))
            && self.send_schema.swap(false, Ordering::Relaxed)
        {
            return CallFailure::SchemaRejected;
        }
        let hint = match code {
            401 | 403 => {
                "; the server rejected the API key: check the key in the variable named by provider.openai.api_key_env"
            }
            404 => {
                "; check provider.openai.model and provider.openai.base_url (it usually ends in /v1)"
            }
            429 => "; the account has no quota left: check billing with the provider",
            _ => "",
        };
        CallFailure::Fatal(OpenAiError::Server {
            base_url: self.endpoint.base_url().to_owned(),
            status: code,
            attempts: 1,
            detail,
            hint,
        })
    }

    /// Removes the key from text that came from the server or the network stack.
    fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(ApiKey(key)) if !key.is_empty() => text.replace(key.as_str(), "[redacted]"),
            _ => text.to_owned(),
        }
    }
}

fn check_env_var_name(name: &str) -> Result<(), OpenAiError> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if valid {
        Ok(())
    } else {
        // Never echo the value: people paste the key itself here.
        Err(OpenAiError::InvalidConfig(
            "provider.openai.api_key_env must be the NAME of an environment variable (e.g. \
             OPENAI_API_KEY), not the key itself"
                .to_owned(),
        ))
    }
}

/// An error and its causes on one line ("error sending request: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn provider_config(default: &str, base_url: &str, env: &str) -> ProviderConfig {
        ProviderConfig {
            default: default.to_owned(),
            openai: OpenAiConfig {
                base_url: base_url.to_owned(),
                model: "m".to_owned(),
                api_key_env: env.to_owned(),
                max_repairs: 2,
                max_tokens: 100,
                timeout_secs: 5,
                max_retries: 1,
                stream: false,
            },
        }
    }

    #[test]
    fn doctor_verdicts_follow_the_default_provider() {
        let unset = "APIFORGE_UNIT_TEST_UNSET_KEY";
        let c = check(&provider_config(
            "openai",
            "https://api.openai.com/v1",
            unset,
        ));
        assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
        assert!(c.detail.contains(unset), "{c:?}");
        let c = check(&provider_config(
            "rules",
            "https://api.openai.com/v1",
            unset,
        ));
        assert_eq!(c.verdict, Verdict::Warn, "{c:?}");
        let c = check(&provider_config(
            "openai",
            "http://127.0.0.1:11434/v1/",
            unset,
        ));
        assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
        assert!(
            c.detail.contains("http://127.0.0.1:11434/v1 (m), no key"),
            "{c:?}"
        );
    }

    #[test]
    fn env_var_names_are_checked_without_echoing() {
        assert!(check_env_var_name("OPENAI_API_KEY").is_ok());
        assert!(check_env_var_name("_X1").is_ok());
        for bad in ["", "1ABC", "sk-abc", "MY KEY", "ключ"] {
            let err = check_env_var_name(bad).expect_err(bad).to_string();
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
    }

    #[test]
    fn error_chains_read_as_one_line() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(io);
        assert_eq!(error_chain(&outer), "connection refused");
    }
}
