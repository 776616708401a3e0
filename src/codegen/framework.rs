//! The server frameworks apiforge generates code for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// Python, FastAPI + pydantic v2 + SQLite (standard library), pytest.
    Fastapi,
    /// Node.js, Express, node:test.
    Express,
}

impl Framework {
    pub const ALL: [Framework; 2] = [Framework::Fastapi, Framework::Express];

    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Fastapi => "fastapi",
            Framework::Express => "express",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fastapi" | "python" => Ok(Framework::Fastapi),
            "express" | "node" => Ok(Framework::Express),
            other => Err(format!(
                "unknown framework {other:?}: use fastapi or express"
            )),
        }
    }
}
