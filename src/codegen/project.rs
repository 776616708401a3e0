//! A whole generated project: the framework's files plus the contract (`openapi.json`,
//! `openapi.yaml`) and the design itself (`apiforge.json`).

use super::{CodegenError, Framework, GeneratedFiles, express, fastapi, openapi, spec_check};
use crate::design::{self, ApiDesign};

/// The design file every generated project carries.
pub const DESIGN_FILE: &str = "apiforge.json";

/// Renders every file of a project. The design is validated and the spec checked
/// against the OpenAPI 3.1 schema first, so a project is never written from a design
/// or contract that is wrong.
pub fn render_project(
    design: &ApiDesign,
    framework: Framework,
) -> Result<GeneratedFiles, CodegenError> {
    design::validate(design).map_err(|e| CodegenError::Unsupported(e.to_string()))?;
    let spec = openapi::build(design);
    spec_check::check(&spec).map_err(|e| {
        CodegenError::Unsupported(format!("the generated OpenAPI document is invalid: {e}"))
    })?;
    let mut files = match framework {
        Framework::Fastapi => fastapi::render(design)?,
        Framework::Express => express::render(design)?,
    };
    files.insert("openapi.json".to_owned(), openapi::to_json(&spec));
    files.insert("openapi.yaml".to_owned(), openapi::to_yaml(&spec));
    files.insert(
        DESIGN_FILE.to_owned(),
        format!("{}\n", design.to_json_pretty()),
    );
    Ok(files)
}

/// The framework a project directory was generated for, from its files.
pub fn detect_framework(dir: &std::path::Path) -> Option<Framework> {
    if dir.join("main.py").is_file() || dir.join("requirements.txt").is_file() {
        Some(Framework::Fastapi)
    } else if dir.join("server.js").is_file() || dir.join("package.json").is_file() {
        Some(Framework::Express)
    } else {
        None
    }
}
