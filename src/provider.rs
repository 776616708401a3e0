//! Providers turn a prompt (plus, when iterating, the current design) into an
//! [`ApiDesign`]. `rules` is built in and offline; `openai` talks to any
//! OpenAI-compatible endpoint.

pub mod openai;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::design::ApiDesign;

/// Which provider to use; parsed from `--provider` and `provider.default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Rules,
    Openai,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Rules => "rules",
            ProviderKind::Openai => "openai",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rules" => Ok(ProviderKind::Rules),
            "openai" => Ok(ProviderKind::Openai),
            other => Err(format!(
                "unknown provider {other:?}: use \"rules\" (built in) or \"openai\" (any OpenAI-compatible endpoint)"
            )),
        }
    }
}

/// What a provider is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct DesignRequest<'a> {
    pub prompt: &'a str,
    /// The current design when the prompt is a follow-up ("add a due date to tasks").
    pub base: Option<&'a ApiDesign>,
}

/// Progress a provider reports while it works (shown in the log pane / CLI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ProviderEvent {
    /// A human-readable progress line ("asking gpt-4o-mini", "repair 1 of 2").
    Progress { message: String },
    /// Streamed output arrived (number of characters so far).
    Streamed { chars: usize },
}

pub mod rules;

/// Everything a provider can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error(transparent)]
    Rules(#[from] rules::RulesError),
    #[error(transparent)]
    OpenAi(#[from] openai::OpenAiError),
    #[error("the provider produced an invalid design: {0}")]
    Invalid(#[from] crate::design::validate::DesignErrors),
}

impl ProviderError {
    /// Whether the person asking must change something (the prompt, the config)
    /// rather than try again.
    pub fn is_usage(&self) -> bool {
        match self {
            ProviderError::Rules(_) => true,
            ProviderError::OpenAi(e) => matches!(
                e,
                openai::OpenAiError::NotConfigured { .. } | openai::OpenAiError::InvalidConfig(_)
            ),
            ProviderError::Invalid(_) => false,
        }
    }
}

/// Designs an API with the chosen provider. Every design returned passes
/// [`crate::design::validate`]; the openai provider is sent the validation problems
/// for repair.
pub async fn design(
    config: &crate::config::ProviderConfig,
    kind: ProviderKind,
    request: DesignRequest<'_>,
    on_event: &mut (dyn FnMut(ProviderEvent) + Send),
) -> Result<ApiDesign, ProviderError> {
    let design = match kind {
        ProviderKind::Rules => rules::RulesProvider::new().handle(&request)?,
        ProviderKind::Openai => {
            let provider = openai::OpenAiProvider::from_config(&config.openai)?;
            let validate = |d: &ApiDesign| crate::design::validate(d).map_err(|e| e.to_lines());
            provider.design(request, &validate, on_event).await?
        }
    };
    crate::design::validate(&design)?;
    Ok(design)
}
