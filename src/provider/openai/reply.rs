//! One model answer and the ApiDesign inside it.

use crate::design::{ApiDesign, SCHEMA_VERSION};

/// What one chat completion produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub content: String,
    /// The model declined (OpenAI's `refusal` field).
    pub refusal: Option<String>,
    /// The reply hit `max_tokens` and is cut off.
    pub truncated: bool,
    /// Tokens the call cost (prompt + completion) as the server reported them, or an
    /// estimate when it reported none.
    pub tokens: u64,
    /// Whether `tokens` came from the server.
    pub usage_reported: bool,
}

impl Reply {
    /// The design in the reply, or why there is none — phrased so it can be sent back
    /// to the model as a repair request.
    ///
    /// Servers that ignore `response_format` wrap JSON in Markdown fences, prefix it
    /// with prose or emit a `<think>` block first, so the JSON object is dug out.
    pub fn design(&self) -> Result<ApiDesign, String> {
        let json = extract_json(&self.content).ok_or_else(|| {
            "the reply contains no JSON object; answer with the ApiDesign JSON object only"
                .to_owned()
        })?;
        let mut design: ApiDesign = serde_json::from_str(json)
            .map_err(|e| format!("the JSON does not match the ApiDesign schema: {e}"))?;
        // The version number is ours to set; a model getting it wrong is not worth a
        // repair round trip.
        design.schema_version = SCHEMA_VERSION;
        Ok(design)
    }
}

fn extract_json(content: &str) -> Option<&str> {
    let mut text = content.trim();
    if text.starts_with("<think>")
        && let Some(end) = text.find("</think>")
    {
        text = text[end + "</think>".len()..].trim();
    }
    if let Some(rest) = text.strip_prefix("```") {
        // Drop the info string (```json) and the closing fence.
        let body = rest.split_once('\n').map_or("", |(_, body)| body);
        let body = body.trim_end();
        text = body.strip_suffix("```").unwrap_or(body).trim();
    }
    if text.starts_with('{') && text.ends_with('}') {
        return Some(text);
    }
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    (end > start).then(|| &text[start..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN: &str = r#"{"schema_version":1,"title":"Todo","resources":[{"name":"task","plural":"tasks","fields":[{"name":"title","type":"string","required":true}]}]}"#;

    fn reply(content: &str) -> Reply {
        Reply {
            content: content.to_owned(),
            ..Reply::default()
        }
    }

    #[test]
    fn plain_fenced_and_chatty_replies_parse() {
        let cases = [
            DESIGN.to_owned(),
            format!("```json\n{DESIGN}\n```"),
            format!("```\n{DESIGN}\n```\n"),
            format!("Here is the design:\n{DESIGN}\nHope this helps."),
            format!("<think>the user wants {{tasks}}</think>\n{DESIGN}"),
        ];
        for content in cases {
            let design = reply(&content).design().expect(&content);
            assert_eq!(design.title, "Todo");
            assert_eq!(design.resources[0].fields[0].name, "title");
        }
    }

    #[test]
    fn schema_version_is_normalised() {
        let content = DESIGN.replace("\"schema_version\":1", "\"schema_version\":7");
        assert_eq!(
            reply(&content).design().expect("valid").schema_version,
            SCHEMA_VERSION
        );
    }

    #[test]
    fn failures_are_sentences_for_the_model() {
        let err = reply("I cannot help with that.")
            .design()
            .expect_err("no JSON");
        assert!(err.contains("no JSON object"), "{err}");
        let err = reply(r#"{"title":"x","resources":[],"colour":"red"}"#)
            .design()
            .expect_err("unknown field");
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = reply(r#"{"schema_version":1,"title":"x"}"#)
            .design()
            .expect_err("missing resources");
        assert!(err.contains("missing field `resources`"), "{err}");
    }
}
