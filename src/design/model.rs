//! The ApiDesign intermediate representation: the one shape every provider produces
//! and every generator (spec, code, tests) consumes.
//!
//! Conventions every consumer relies on:
//! * names are snake_case ASCII (`invoice_line`, `due_date`); a resource `name` is
//!   singular, `plural` is the collection name used in paths (`/invoice_lines`);
//! * every resource implicitly has an integer `id` (server-assigned) and
//!   `created_at` / `updated_at` timestamps; they are never listed in `fields`;
//! * a belongs-to relation adds the foreign-key field `<parent>_id` (named in
//!   `Relation::field`); it is not listed in `fields` either.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped when the serialised shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiDesign {
    pub schema_version: u32,
    /// Human title, e.g. "Bakery API".
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The generated API's own semantic version (info.version in the spec).
    #[serde(default = "default_api_version")]
    pub version: String,
    #[serde(default)]
    pub auth: AuthScheme,
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
}

fn default_api_version() -> String {
    "1.0.0".to_owned()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Singular snake_case, e.g. `invoice_line`.
    pub name: String,
    /// Plural snake_case, e.g. `invoice_lines`; the collection path is `/{plural}`.
    pub plural: String,
    #[serde(default)]
    pub description: String,
    pub fields: Vec<Field>,
    /// Belongs-to relations of this resource (it holds the foreign key). Has-many is
    /// derived: see [`ApiDesign::children_of`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    #[serde(default)]
    pub operations: Operations,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// snake_case, unique within the resource; never `id`, `created_at`, `updated_at`.
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Allowed values; non-empty exactly when `ty` is [`FieldType::Enum`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
    /// Inclusive numeric bounds (integer / number fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Length bounds in characters (string-like fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// A regular expression the value must contain a match of, as JSON Schema reads
    /// `pattern`; anchor it (`^…$`) to constrain the whole value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Unit of measure, kept for documentation ("kg", "square meters").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Field {
    /// A plain optional field of the given type with no constraints.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Self {
            name: name.into(),
            ty,
            required: false,
            unique: false,
            default: None,
            description: None,
            enum_values: Vec::new(),
            min: None,
            max: None,
            min_length: None,
            max_length: None,
            pattern: None,
            unit: None,
        }
    }
}

/// Field types. Each maps to one JSON Schema type + format in the spec, one pydantic
/// type, one SQLite column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Short text (names, titles, codes).
    String,
    /// Long free text (notes, body, description).
    Text,
    Integer,
    /// Floating point (ratings, measurements, coordinates).
    Number,
    /// Money and other exact amounts; JSON number, two decimals by convention.
    Decimal,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 timestamp.
    DateTime,
    /// `HH:MM[:SS]`.
    Time,
    Email,
    Url,
    Phone,
    Uuid,
    /// One of `Field::enum_values`.
    Enum,
    /// Arbitrary JSON object.
    Json,
}

impl FieldType {
    pub const ALL: [FieldType; 15] = [
        FieldType::String,
        FieldType::Text,
        FieldType::Integer,
        FieldType::Number,
        FieldType::Decimal,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::DateTime,
        FieldType::Time,
        FieldType::Email,
        FieldType::Url,
        FieldType::Phone,
        FieldType::Uuid,
        FieldType::Enum,
        FieldType::Json,
    ];

    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Number | FieldType::Decimal
        )
    }

    /// Types whose values are strings in JSON (and so take length/pattern bounds).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Text
                | FieldType::Email
                | FieldType::Url
                | FieldType::Phone
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    /// The parent resource's `name` (singular).
    pub target: String,
    /// The foreign-key field on this resource, normally `<target>_id`.
    pub field: String,
    #[serde(default = "default_true")]
    pub required: bool,
    #[serde(default)]
    pub on_delete: OnDelete,
}

fn default_true() -> bool {
    true
}

/// What happens to children when their parent is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// Deleting a parent that still has children fails with 409.
    #[default]
    Restrict,
    Cascade,
    /// Only valid when the relation is optional.
    SetNull,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    /// `GET /{plural}`; `None` when listing is not offered.
    #[serde(default = "default_list")]
    pub list: Option<ListOp>,
    #[serde(default = "default_true")]
    pub get: bool,
    #[serde(default = "default_true")]
    pub create: bool,
    /// `PUT /{plural}/{id}` full replacement.
    #[serde(default = "default_true")]
    pub replace: bool,
    /// `PATCH /{plural}/{id}` partial update.
    #[serde(default = "default_true")]
    pub patch: bool,
    #[serde(default = "default_true")]
    pub delete: bool,
}

fn default_list() -> Option<ListOp> {
    Some(ListOp::default())
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            list: default_list(),
            get: true,
            create: true,
            replace: true,
            patch: true,
            delete: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOp {
    /// Page size when the client gives none (`?limit=`), and the largest it may ask.
    #[serde(default = "default_page_size")]
    pub default_page_size: u32,
    #[serde(default = "default_max_page_size")]
    pub max_page_size: u32,
    /// Fields (or relation foreign keys) usable as exact-match query filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Text fields searched (case-insensitive substring) by `?q=`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// Fields usable in `?sort=field` / `?sort=-field`; `id` is always allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<String>,
}

fn default_page_size() -> u32 {
    20
}

fn default_max_page_size() -> u32 {
    100
}

impl Default for ListOp {
    fn default() -> Self {
        Self {
            default_page_size: default_page_size(),
            max_page_size: default_max_page_size(),
            filters: Vec::new(),
            search: Vec::new(),
            sort: Vec::new(),
        }
    }
}

/// A custom endpoint beyond CRUD (e.g. `POST /orders/{id}/cancel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// snake_case, unique in the design; becomes the operationId.
    pub name: String,
    pub method: HttpMethod,
    /// Absolute path, e.g. `/orders/{id}/cancel`; `{id}` refers to `resource`'s id.
    pub path: String,
    #[serde(default)]
    pub summary: String,
    /// The resource the action belongs to, if any (its tag, and the `{id}` target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Request body fields; empty means no body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<Field>,
    /// What a success returns.
    #[serde(default)]
    pub output: ActionOutput,
    /// A built-in behaviour, or a handler body per framework.
    #[serde(default)]
    pub behavior: ActionBehavior,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActionOutput {
    /// The (updated) resource the action belongs to.
    #[default]
    Resource,
    /// An object with these fields.
    Object { fields: Vec<Field> },
    /// 204 No Content.
    Empty,
}

/// How an action behaves. Built-in behaviours are generated and tested like CRUD;
/// custom handler bodies (from an LLM or a person) only count once the sandboxed
/// tests pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActionBehavior {
    /// Set `field` of the resource to `value` (e.g. cancel → status = "cancelled"),
    /// optionally only when the current value is one of `from` (else 409).
    SetField {
        field: String,
        value: Value,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        from: Vec<Value>,
    },
    /// Hand-written handler bodies per framework.
    Custom {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fastapi: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        express: Option<String>,
    },
    /// Answers 501 problem+json until a handler is written.
    #[default]
    NotImplemented,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AuthScheme {
    #[default]
    None,
    /// A static key in a request header, compared with the value of `env_var`.
    ApiKey {
        #[serde(default = "default_api_key_header")]
        header: String,
        #[serde(default = "default_api_key_env")]
        env_var: String,
    },
    /// `Authorization: Bearer <JWT>`, HS256, secret from `env_var`.
    BearerJwt {
        #[serde(default = "default_jwt_env")]
        env_var: String,
    },
}

fn default_api_key_header() -> String {
    "X-API-Key".to_owned()
}

fn default_api_key_env() -> String {
    "API_KEY".to_owned()
}

fn default_jwt_env() -> String {
    "JWT_SECRET".to_owned()
}

impl ApiDesign {
    /// An empty design with the given title; callers add resources.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            title: title.into(),
            description: String::new(),
            version: default_api_version(),
            auth: AuthScheme::None,
            resources: Vec::new(),
            actions: Vec::new(),
        }
    }

    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name == name)
    }

    pub fn resource_mut(&mut self, name: &str) -> Option<&mut Resource> {
        self.resources.iter_mut().find(|r| r.name == name)
    }

    /// Resources that belong to `parent` (the derived has-many side).
    pub fn children_of<'a>(&'a self, parent: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.relations.iter().any(|rel| rel.target == parent))
    }

    /// Resources ordered so that every parent precedes its children (for table
    /// creation); cycles keep their input order.
    pub fn resources_parent_first(&self) -> Vec<&Resource> {
        let mut ordered: Vec<&Resource> = Vec::with_capacity(self.resources.len());
        let mut remaining: Vec<&Resource> = self.resources.iter().collect();
        while !remaining.is_empty() {
            let before = remaining.len();
            remaining.retain(|r| {
                let ready = r.relations.iter().all(|rel| {
                    rel.target == r.name || ordered.iter().any(|o| o.name == rel.target)
                });
                if ready {
                    ordered.push(r);
                }
                !ready
            });
            if remaining.len() == before {
                ordered.append(&mut remaining);
            }
        }
        ordered
    }

    pub fn to_json_pretty(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl Resource {
    pub fn new(name: impl Into<String>, plural: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            plural: plural.into(),
            description: String::new(),
            fields: Vec::new(),
            relations: Vec::new(),
            operations: Operations::default(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    pub fn relation_to(&self, target: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.target == target)
    }
}
