//! Everything derived deterministically from an [`ApiDesign`](crate::design::ApiDesign):
//! the OpenAPI 3.1 contract, the FastAPI or Express project, its tests. Same design in,
//! byte-identical files out.
//!
//! # The HTTP contract every generated API follows
//!
//! The spec generator, both code generators and the contract tests all rely on these
//! conventions; change them in one place only together with the others.
//!
//! * **Paths.** Collection `/{plural}`, item `/{plural}/{id}`; `id` is an integer path
//!   parameter from 1 to [`MAX_INTEGER`]. Custom actions use their own `path`. `GET /health` → 200
//!   `{"status": "ok"}`, always public.
//! * **Representation.** JSON object with `id` (integer), every design field under its
//!   own name, every belongs-to foreign key (`<parent>_id`, integer, `null` when an
//!   optional relation is unset), `created_at` and `updated_at` (RFC 3339 date-time
//!   strings, UTC, `Z` suffix). Optional fields that are unset are present as `null`.
//! * **Schemas** (component names, resource name in PascalCase, e.g. `InvoiceLine`):
//!   `InvoiceLine` (representation), `InvoiceLineCreate` (body of POST and PUT: every
//!   field and foreign key; `required` as the design says), `InvoiceLinePatch` (same
//!   properties, none required), `InvoiceLineList` (list envelope), `Problem`.
//! * **Operations and status codes** (operationId in brackets):
//!   list `GET /{plural}` → 200 envelope [`list_{plural}`]; create `POST /{plural}` →
//!   201 + representation + `Location: /{plural}/{id}` [`create_{name}`];
//!   get `GET /{plural}/{id}` → 200 [`get_{name}`]; replace `PUT /{plural}/{id}` → 200
//!   [`replace_{name}`]; patch `PATCH /{plural}/{id}` → 200 [`patch_{name}`]; delete
//!   `DELETE /{plural}/{id}` → 204 no body [`delete_{name}`]. Tag = `plural`.
//! * **List envelope.** `{"items": [...], "total": N, "limit": L, "offset": O}`.
//!   Query parameters: `limit` (integer, 1..=max_page_size, default
//!   default_page_size), `offset` (integer 0..=MAX_INTEGER, default 0), `sort` (string enum of
//!   `id`, `-id`, and `f` / `-f` for every sort field; default `id`), `q` (only when
//!   the design has search fields: case-insensitive substring over them), and one
//!   parameter per filter field with the field's own schema (exact match; booleans as
//!   `true`/`false`; foreign keys filter by parent id).
//! * **Errors** are RFC 9457 problem details, content type `application/problem+json`,
//!   schema `Problem`: `type` (string, `about:blank` unless more specific), `title`,
//!   `status` (integer), `detail` (string), optional `errors` (array of
//!   `{"loc": [string…], "msg": string}` for validation failures).
//!   404 unknown id (or route); 405 a method the path does not serve, with `Allow`;
//!   409 unique violation, a foreign key that names no existing parent (the request is
//!   well-formed; the data it points at is missing), deleting a parent that still has
//!   children under `restrict`, or a custom action's precondition failing;
//!   422 invalid body, malformed or undecodable JSON, invalid query or path parameter; 401 missing/invalid credentials when the design has
//!   auth (every route but `/health`); 501 for custom actions without a handler.
//! * **Types** (JSON Schema): string/text → string (text has no maxLength unless
//!   given); integer → integer, format `int64`, within ±[`MAX_INTEGER`] unless the
//!   design bounds it (ids and foreign keys 1..=MAX_INTEGER); number/decimal → number; boolean; date → string,
//!   format `date`; date_time → string, format `date-time`; time → string, pattern
//!   `^\d{2}:\d{2}(:\d{2})?$`; email → format `email`; url → format `uri`; phone →
//!   pattern `^\+?[0-9 ()-]{6,20}$`; uuid → format `uuid`; enum → string with `enum`;
//!   json → object. `min`/`max` → minimum/maximum; lengths → minLength/maxLength;
//!   `pattern` → pattern. Defaults are applied on create when a field is omitted.
//! * **Running.** The server listens on `APIFORGE_LISTEN`: `unix:/abs/path.sock` or
//!   `host:port` (default `127.0.0.1:8000`). SQLite database file from `APIFORGE_DB`
//!   (default `app.db` in the working directory), foreign keys enforced, schema created
//!   at start-up. Auth secrets from the env var the design names (`API_KEY`,
//!   `JWT_SECRET`).

/// The largest integer both frameworks represent exactly (2^53 − 1: JavaScript numbers):
/// every integer in the contract — ids, foreign keys, integer fields without their own
/// bounds, `offset` — lies within ±this, and both servers refuse what lies outside.
pub const MAX_INTEGER: i64 = 9_007_199_254_740_991;

pub mod express;
pub mod fastapi;
pub mod framework;
pub mod openapi;
pub mod project;
pub mod spec_check;
pub mod spec_import;
pub mod text_rules;

use std::collections::BTreeMap;

pub use framework::Framework;

/// Generated files: relative path (with `/` separators) → contents. A `BTreeMap` so
/// iteration order, and therefore every derived artefact, is deterministic.
pub type GeneratedFiles = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    #[error("template {template} failed to render: {message}")]
    Template { template: String, message: String },
    #[error("the design cannot be generated: {0}")]
    Unsupported(String),
}

/// Collapses runs of more than `max_blank` blank lines (left where optional template
/// blocks were skipped), trims trailing spaces, and ends a non-empty file with exactly
/// one newline.
pub(crate) fn tidy(text: &str, max_blank: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > max_blank {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_end_matches('\n').trim_start_matches('\n');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}
