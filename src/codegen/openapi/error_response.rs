//! The error responses operations refer to (`components/responses`), and the builder
//! that records which ones a document uses.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{PROBLEM_JSON, schema_ref};

/// Reusable error responses under `components/responses`, in the order they are
/// emitted; only those some operation uses are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ErrorResponse {
    Unauthorized,
    NotFound,
    Conflict,
    UnprocessableContent,
    InternalError,
    NotImplemented,
}

impl ErrorResponse {
    fn status(self) -> u16 {
        match self {
            ErrorResponse::Unauthorized => 401,
            ErrorResponse::NotFound => 404,
            ErrorResponse::Conflict => 409,
            ErrorResponse::UnprocessableContent => 422,
            ErrorResponse::InternalError => 500,
            ErrorResponse::NotImplemented => 501,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Unauthorized",
            ErrorResponse::NotFound => "NotFound",
            ErrorResponse::Conflict => "Conflict",
            ErrorResponse::UnprocessableContent => "UnprocessableContent",
            ErrorResponse::InternalError => "InternalError",
            ErrorResponse::NotImplemented => "NotImplemented",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Unauthorized",
            ErrorResponse::NotFound => "Not Found",
            ErrorResponse::Conflict => "Conflict",
            ErrorResponse::UnprocessableContent => "Unprocessable Content",
            ErrorResponse::InternalError => "Internal Server Error",
            ErrorResponse::NotImplemented => "Not Implemented",
        }
    }

    fn description(self) -> &'static str {
        match self {
            ErrorResponse::Unauthorized => "Credentials are missing or invalid.",
            ErrorResponse::NotFound => "No resource has this id.",
            ErrorResponse::Conflict => {
                "The request conflicts with the current state (a unique value is taken, \
                 a referenced parent does not exist, children still reference the resource, \
                 or a precondition failed)."
            }
            ErrorResponse::UnprocessableContent => {
                "The request body, a query parameter or a path parameter is invalid."
            }
            ErrorResponse::InternalError => "The server failed unexpectedly.",
            ErrorResponse::NotImplemented => "This action has no handler yet.",
        }
    }

    pub(super) fn example(self) -> Value {
        let mut problem = json!({
            "type": "about:blank",
            "title": self.title(),
            "status": self.status(),
            "detail": match self {
                ErrorResponse::Unauthorized => "Missing or invalid credentials.",
                ErrorResponse::NotFound => "No resource with id 42.",
                ErrorResponse::Conflict => "The value is already taken.",
                ErrorResponse::UnprocessableContent => "The request body is invalid.",
                ErrorResponse::InternalError => "The server failed unexpectedly.",
                ErrorResponse::NotImplemented => "This action is not implemented yet.",
            },
        });
        if self == ErrorResponse::UnprocessableContent {
            problem["errors"] = json!([{ "loc": ["body", "name"], "msg": "Field required" }]);
        }
        problem
    }

    pub(super) fn component(self) -> Value {
        json!({
            "description": self.description(),
            "content": { PROBLEM_JSON: {
                "schema": schema_ref("Problem"),
                "example": self.example(),
            } },
        })
    }
}

/// Builds one operation's `responses`, recording which error responses it refers to.
pub(super) struct Responses<'a> {
    map: Map<String, Value>,
    errors: BTreeSet<ErrorResponse>,
    used: &'a mut BTreeSet<ErrorResponse>,
}

impl<'a> Responses<'a> {
    pub(super) fn new(used: &'a mut BTreeSet<ErrorResponse>) -> Self {
        Self {
            map: Map::new(),
            errors: BTreeSet::new(),
            used,
        }
    }

    pub(super) fn success(mut self, status: u16, response: Value) -> Self {
        self.map.insert(status.to_string(), response);
        self
    }

    pub(super) fn error(mut self, error: ErrorResponse, when: bool) -> Self {
        if when {
            self.errors.insert(error);
        }
        self
    }

    /// Every operation declares at least one error; one that can fail in no specific
    /// way still can fail unexpectedly.
    pub(super) fn finish(mut self) -> Value {
        if self.errors.is_empty() {
            self.errors.insert(ErrorResponse::InternalError);
        }
        for error in &self.errors {
            self.used.insert(*error);
            self.map.insert(
                error.status().to_string(),
                json!({ "$ref": format!("#/components/responses/{}", error.name()) }),
            );
        }
        Value::Object(self.map)
    }
}
