//! The messages sent to the model: system prompt (IR rules plus the ApiDesign JSON
//! Schema), the request, and the repair turns — for an answer that is not a valid
//! design, and for a valid design whose generated project failed its tests.

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent,
};

use crate::design::{ApiDesign, SCHEMA_VERSION};
use crate::provider::DesignRequest;

const SYSTEM_PROMPT: &str = include_str!("../../../assets/prompts/openai_system.md");

/// The ApiDesign JSON Schema as schemars derives it from the model types.
pub fn design_schema() -> serde_json::Value {
    schemars::schema_for!(ApiDesign).to_value()
}

pub fn system_prompt(schema: &serde_json::Value) -> String {
    format!(
        "{}{}\n",
        SYSTEM_PROMPT.replace("{schema_version}", &SCHEMA_VERSION.to_string()),
        schema
    )
}

/// The growing list of messages of one `design` call.
#[derive(Debug, Clone)]
pub struct Conversation {
    messages: Vec<ChatCompletionRequestMessage>,
    /// Characters sent so far, for a token estimate when the server reports no usage.
    chars: usize,
}

impl Conversation {
    pub fn new(system_prompt: &str, request: DesignRequest<'_>) -> Self {
        let user = match request.base {
            None => format!(
                "Design a REST API for this request:\n\n{}",
                request.prompt.trim()
            ),
            Some(base) => format!(
                "This is the current design:\n\n{}\n\nApply this follow-up request to it and \
                 answer with the complete updated design:\n\n{}",
                base.to_json_pretty(),
                request.prompt.trim()
            ),
        };
        let mut conversation = Self {
            messages: Vec::with_capacity(6),
            chars: 0,
        };
        conversation.push_system(system_prompt);
        conversation.push_user(user);
        conversation
    }

    /// Sends the model's last answer back with what is wrong with it.
    pub fn push_repair(&mut self, answer: &str, problems: &str) {
        self.push_assistant(answer);
        self.push_user(format!(
            "That answer is not a valid ApiDesign:\n\n{problems}\n\nFix these problems and \
             answer with the complete corrected ApiDesign JSON object only."
        ));
    }

    /// Sends back a valid design (as the model's answer) whose generated project failed
    /// its sandboxed tests, with the failures. They come from the handler bodies the
    /// model wrote far more often than from the rest of the design, hence the hint.
    pub fn push_test_failures(&mut self, design_json: &str, failures: &str) {
        self.push_assistant(design_json);
        self.push_user(format!(
            "That design is valid, but the project generated from it failed its sandboxed \
             tests:\n\n{failures}\n\nFix the cause — usually a custom action's handler body \
             (`behavior.fastapi` / `behavior.express`) — keep everything else as it is, and \
             answer with the complete corrected ApiDesign JSON object only."
        ));
    }

    pub fn messages(&self) -> &[ChatCompletionRequestMessage] {
        &self.messages
    }

    /// A rough token count of everything sent (about four characters per token).
    pub fn estimated_tokens(&self) -> u64 {
        (self.chars as u64).div_ceil(4)
    }

    fn push_assistant(&mut self, text: &str) {
        self.chars += text.len();
        self.messages.push(ChatCompletionRequestMessage::Assistant(
            ChatCompletionRequestAssistantMessage {
                content: Some(ChatCompletionRequestAssistantMessageContent::Text(
                    text.to_owned(),
                )),
                ..Default::default()
            },
        ));
    }

    fn push_system(&mut self, text: &str) {
        self.chars += text.len();
        self.messages.push(ChatCompletionRequestMessage::System(
            ChatCompletionRequestSystemMessage {
                content: ChatCompletionRequestSystemMessageContent::Text(text.to_owned()),
                name: None,
            },
        ));
    }

    fn push_user(&mut self, text: String) {
        self.chars += text.len();
        self.messages.push(ChatCompletionRequestMessage::User(
            ChatCompletionRequestUserMessage {
                content: ChatCompletionRequestUserMessageContent::Text(text),
                name: None,
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_describes_the_design_and_lands_in_the_system_prompt() {
        let schema = design_schema();
        let props = schema
            .pointer("/properties")
            .and_then(|p| p.as_object())
            .expect("object schema");
        for key in ["schema_version", "title", "resources", "auth", "actions"] {
            assert!(props.contains_key(key), "schema lacks {key}");
        }
        let prompt = system_prompt(&schema);
        assert!(prompt.contains(&format!("`schema_version` is {SCHEMA_VERSION}")));
        assert!(prompt.contains("\"resources\""));
        assert!(!prompt.contains("{schema_version}"));
    }

    #[test]
    fn test_failures_follow_the_failed_design_as_its_answer() {
        let mut c = Conversation::new(
            "sys",
            DesignRequest {
                prompt: "notes",
                base: None,
            },
        );
        let before = c.estimated_tokens();
        c.push_test_failures("{\"title\":\"Notes\"}", "1. contract · count_notes");
        let json = serde_json::to_value(c.messages()).expect("messages serialise");
        let roles: Vec<&str> = (0..4)
            .map(|i| json[i]["role"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(json[2]["content"], "{\"title\":\"Notes\"}");
        let ask = json[3]["content"].as_str().unwrap_or_default();
        assert!(ask.contains("failed its sandboxed tests"), "{ask}");
        assert!(ask.contains("1. contract · count_notes"), "{ask}");
        assert!(c.estimated_tokens() > before);
    }

    #[test]
    fn follow_ups_carry_the_base_design() {
        let base = ApiDesign::new("Library");
        let c = Conversation::new(
            "sys",
            DesignRequest {
                prompt: "add a due date to loans",
                base: Some(&base),
            },
        );
        let json = serde_json::to_string(c.messages()).expect("messages serialise");
        assert!(json.contains("Library"), "{json}");
        assert!(json.contains("add a due date to loans"), "{json}");
        assert_eq!(c.messages().len(), 2);
    }
}
