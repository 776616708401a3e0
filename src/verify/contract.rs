//! Contract tests generated from a project's `openapi.json`, following the HTTP
//! contract in [`crate::codegen`].
//!
//! For each resource (in the spec's path order; parents are created first when a
//! resource has belongs-to relations) the checker runs, in this order:
//! 1. the CRUD sequence: create → get → list contains it → replace (PUT) → get shows
//!    the change → patch → get shows it → delete → get is 404;
//! 2. invalid creates, each expecting 422: every required field missing, a wrong type,
//!    an out-of-range value, a bad enum value, malformed JSON; a parent id that does
//!    not exist and a duplicate unique value, each expecting 409;
//! 3. unknown id → 404 on get, replace, patch and delete; invalid replace/patch
//!    bodies → 422;
//! 4. list parameters: `limit`, `offset`, every `sort` value (`id`/`-id` order
//!    checked), every filter, `q`, and invalid `limit`/`sort` → 422.
//!
//! Then every custom action once, with a body from its schema's example. With auth,
//! each list is first requested without credentials and with wrong ones (401) and
//! `/health` without credentials (200); every other request carries valid ones.
//!
//! Every response is checked for its status code, content type and body against the
//! response the spec documents for that operation and status ([`response_check`]).
//! Each check records a curl command that repeats its request. Requests go one at a
//! time, in a fixed order, so two runs against the same server send the same
//! requests.

mod api_map;
mod curl;
mod response_check;
mod sample;

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use self::api_map::{ApiMap, Operation, Resource, SecurityScheme, foreign_keys, resolve};
use self::response_check::ResponseChecker;
use super::credentials::Credentials;
use super::report::ContractCheck;
use crate::codegen::openapi::EXT_SEARCH;
use crate::sandbox::http::{HttpClient, HttpRequest, HttpResponse};

/// An id no generated server hands out in a test run.
const UNKNOWN_ID: i64 = 987_654_321;
/// How much of a request body a check's summary shows.
const SUMMARY_BODY_CHARS: usize = 160;

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("the OpenAPI document cannot drive contract tests: {0}")]
    Spec(String),
}

/// Runs every contract check against the server `client` reaches; `credentials`
/// must be the ones the server was started with when the spec has security.
pub async fn run(
    client: &HttpClient,
    spec: &Value,
    credentials: Option<&Credentials>,
) -> Result<Vec<ContractCheck>, ContractError> {
    let map = ApiMap::read(spec)?;
    if let (Some(scheme), Some(creds)) = (&map.security, credentials) {
        let fits = matches!(
            (scheme, creds),
            (SecurityScheme::ApiKey { .. }, Credentials::ApiKey { .. })
                | (SecurityScheme::Bearer, Credentials::BearerJwt { .. })
        );
        if !fits {
            return Err(ContractError::Spec(
                "the credentials given do not match the spec's security scheme".into(),
            ));
        }
    }
    let mut runner = Runner {
        client,
        spec,
        checker: ResponseChecker::new(spec),
        auth: credentials.map(Credentials::header),
        wrong_auth: credentials.map(Credentials::wrong_header),
        checks: Vec::new(),
        counter: 0,
        parents: HashMap::new(),
        map,
    };
    runner.run_all().await;
    Ok(runner.checks)
}

/// How a request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Valid,
    Missing,
    Wrong,
}

struct Runner<'a> {
    client: &'a HttpClient,
    spec: &'a Value,
    map: ApiMap,
    checker: ResponseChecker<'a>,
    auth: Option<(String, String)>,
    wrong_auth: Option<(String, String)>,
    checks: Vec<ContractCheck>,
    /// Makes unique values distinct across every body built.
    counter: u64,
    /// An existing instance per resource index, for children to point at.
    parents: HashMap<usize, i64>,
}

/// What one sent request produced: the response (if any) and its check's index.
struct Sent {
    response: Option<HttpResponse>,
    check: usize,
}

impl Sent {
    fn json(&self) -> Option<Value> {
        self.response.as_ref().and_then(|r| r.json().ok())
    }

    fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

impl Runner<'_> {
    async fn run_all(&mut self) {
        self.health().await;
        if self.map.security.is_some() && self.auth.is_some() {
            self.auth_checks().await;
        }
        for index in 0..self.map.resources.len() {
            self.crud_sequence(index).await;
            self.invalid_creates(index).await;
            self.unknown_ids_and_bad_updates(index).await;
            self.list_parameters(index).await;
        }
        self.custom_actions().await;
    }

    fn next_n(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// Sends `request` for `op`, checks the status and the response against the spec,
    /// and records the check.
    async fn send(
        &mut self,
        op: &Operation,
        name: impl Into<String>,
        mut request: HttpRequest,
        auth: Auth,
        expected: u16,
    ) -> Sent {
        let header = match auth {
            Auth::Valid => self.auth.clone(),
            Auth::Wrong => self.wrong_auth.clone(),
            Auth::Missing => None,
        };
        if let Some((n, v)) = header {
            request = request.header(n, v);
        }
        let curl = curl::command(self.client.target(), &request);
        let summary = summarize(&request);
        let result = self.client.send(&request).await;
        let (response, got, problems) = match result {
            Ok(response) => {
                let mut problems = Vec::new();
                if response.status != expected {
                    problems.push(format!("status {} instead of {expected}", response.status));
                }
                problems.extend(self.checker.check(op, &response));
                let got = if problems.is_empty() {
                    format!("status {}", response.status)
                } else {
                    format!(
                        "status {}: {} (body: {})",
                        response.status,
                        problems.join("; "),
                        shorten(&response.text(), 300)
                    )
                };
                (Some(response), got, problems)
            }
            Err(e) => (None, format!("no response: {e}"), vec![e.to_string()]),
        };
        self.checks.push(ContractCheck {
            operation: op.id.clone(),
            name: name.into(),
            request: summary,
            expected: format!("status {expected} with the documented response"),
            got,
            passed: problems.is_empty(),
            curl,
        });
        Sent {
            response,
            check: self.checks.len() - 1,
        }
    }

    /// Adds an expectation the response failed beyond status and schema.
    fn fail(&mut self, sent: &Sent, expected: &str, problem: &str) {
        let check = &mut self.checks[sent.check];
        check.expected = format!("{}; {expected}", check.expected);
        if check.passed {
            check.got = format!("{}: {problem}", check.got);
        } else {
            check.got = format!("{}; {problem}", check.got);
        }
        check.passed = false;
    }

    /// Notes an expectation that held, so the report says what was verified.
    fn also_expected(&mut self, sent: &Sent, expected: &str) {
        let check = &mut self.checks[sent.check];
        check.expected = format!("{}; {expected}", check.expected);
    }

    fn health_op(&self) -> Operation {
        self.map
            .operations
            .iter()
            .find(|o| o.method == "GET" && o.path == "/health")
            .cloned()
            .unwrap_or_else(|| Operation {
                id: "health".into(),
                method: "GET".into(),
                path: "/health".into(),
                pointer: "/paths/~1health/get".into(),
                parameters: Vec::new(),
                body_schema: None,
                secured: false,
            })
    }

    async fn health(&mut self) {
        let op = self.health_op();
        let sent = self
            .send(
                &op,
                "health answers without credentials",
                HttpRequest::get("/health"),
                Auth::Missing,
                200,
            )
            .await;
        if sent.status() == Some(200) && sent.json() != Some(json!({"status": "ok"})) {
            self.fail(&sent, r#"body {"status": "ok"}"#, "a different body");
        }
    }

    async fn auth_checks(&mut self) {
        let lists: Vec<Operation> = self
            .map
            .resources
            .iter()
            .filter_map(|r| r.list.clone())
            .filter(|o| o.secured)
            .collect();
        for op in lists {
            self.send(
                &op,
                "no credentials → 401",
                HttpRequest::get(&op.path),
                Auth::Missing,
                401,
            )
            .await;
            self.send(
                &op,
                "wrong credentials → 401",
                HttpRequest::get(&op.path),
                Auth::Wrong,
                401,
            )
            .await;
            self.send(
                &op,
                "valid credentials → 200",
                HttpRequest::get(&op.path),
                Auth::Valid,
                200,
            )
            .await;
        }
    }

    fn create_schema(&self, index: usize) -> Option<(String, Value)> {
        let pointer = self.map.resources[index]
            .create_schema_pointer()?
            .to_owned();
        let schema = resolve(self.spec, self.spec.pointer(&pointer)?).clone();
        Some((pointer, schema))
    }

    /// A valid create body for resource `index`, creating parents as needed. `None`
    /// when a required parent cannot be created.
    async fn valid_body(&mut self, index: usize, depth: usize) -> Option<Map<String, Value>> {
        let (_, schema) = self.create_schema(index)?;
        let n = self.next_n();
        let mut body = sample::body_for(&schema, n);
        for (field, target, required) in foreign_keys(&schema) {
            let parent = self.map.resource_named(&target);
            let id = match parent {
                Some(p) if p != index && depth < 8 => {
                    Box::pin(self.parent_instance(p, depth + 1)).await
                }
                _ => None,
            };
            match id {
                Some(id) => {
                    body.insert(field, json!(id));
                }
                None if required => return None,
                None => {
                    body.insert(field, Value::Null);
                }
            }
        }
        Some(body)
    }

    /// An instance of resource `index` that stays (children point at it).
    async fn parent_instance(&mut self, index: usize, depth: usize) -> Option<i64> {
        if let Some(id) = self.parents.get(&index) {
            return Some(*id);
        }
        let id = self
            .create_instance(index, depth, "create (as a parent)")
            .await?;
        self.parents.insert(index, id);
        Some(id)
    }

    /// Creates an instance of resource `index` and returns its id.
    async fn create_instance(&mut self, index: usize, depth: usize, why: &str) -> Option<i64> {
        let create = self.map.resources[index].create.clone()?;
        let body = Box::pin(self.valid_body(index, depth)).await?;
        let sent = self
            .send(
                &create,
                why,
                post(&create.path, &Value::Object(body)),
                Auth::Valid,
                201,
            )
            .await;
        sent.json()?.get("id")?.as_i64()
    }

    async fn crud_sequence(&mut self, index: usize) {
        let resource = self.map.resources[index].clone();
        let Some(create) = resource.create.clone() else {
            return;
        };
        let Some(body) = self.valid_body(index, 0).await else {
            return;
        };
        let sent = self
            .send(
                &create,
                "create with a valid body → 201",
                post(&create.path, &Value::Object(body.clone())),
                Auth::Valid,
                201,
            )
            .await;
        let Some(created) = sent.json() else { return };
        let Some(id) = created.get("id").and_then(Value::as_i64) else {
            return;
        };
        self.expect_fields(&sent, &created, &body, index);
        let location = format!("/{}/{id}", resource.plural);
        let got_location = sent
            .response
            .as_ref()
            .and_then(|r| r.header("location"))
            .map(str::to_owned);
        if got_location.as_deref() == Some(location.as_str()) {
            self.also_expected(&sent, &format!("Location: {location}"));
        } else {
            self.fail(
                &sent,
                &format!("Location: {location}"),
                &format!("Location {got_location:?}"),
            );
        }
        let item = format!("/{}/{id}", resource.plural);
        if let Some(get) = &resource.get {
            let sent = self
                .send(
                    get,
                    "get the created one → 200",
                    HttpRequest::get(&item),
                    Auth::Valid,
                    200,
                )
                .await;
            if let Some(got) = sent.json() {
                self.expect_fields(&sent, &got, &body, index);
            }
        }
        if let Some(list) = &resource.list {
            let path = format!("{}?{}", list.path, list_query(list, &[("sort", "-id")]));
            let sent = self
                .send(
                    list,
                    "list contains the created one",
                    HttpRequest::get(path),
                    Auth::Valid,
                    200,
                )
                .await;
            let ids = item_ids(sent.json().as_ref());
            if ids.contains(&id) {
                self.also_expected(&sent, &format!("items contain id {id}"));
            } else {
                self.fail(
                    &sent,
                    &format!("items contain id {id}"),
                    &format!("ids {ids:?}"),
                );
            }
        }
        if let Some(replace) = &resource.replace
            && let Some(mut new_body) = self.valid_body(index, 0).await
        {
            // Keep the parents of the original so only field values change.
            for (field, _, _) in self
                .create_schema(index)
                .map(|s| foreign_keys(&s.1))
                .unwrap_or_default()
            {
                if let Some(v) = body.get(&field) {
                    new_body.insert(field, v.clone());
                }
            }
            if let Some((field, value)) = self.changed_value(index) {
                new_body.insert(field, value);
            }
            let request = HttpRequest::new("PUT", &item).json(&Value::Object(new_body.clone()));
            let sent = self
                .send(replace, "replace → 200", request, Auth::Valid, 200)
                .await;
            if let Some(got) = sent.json() {
                self.expect_fields(&sent, &got, &new_body, index);
            }
            self.get_shows(
                &resource,
                &item,
                &new_body,
                index,
                "get shows the replacement",
            )
            .await;
        }
        if let Some(patch) = &resource.patch
            && let Some((field, value)) = self.changed_value(index)
        {
            let mut change = Map::new();
            change.insert(field, value);
            let request = HttpRequest::new("PATCH", &item).json(&Value::Object(change.clone()));
            let sent = self
                .send(patch, "patch one field → 200", request, Auth::Valid, 200)
                .await;
            if let Some(got) = sent.json() {
                self.expect_fields(&sent, &got, &change, index);
            }
            self.get_shows(&resource, &item, &change, index, "get shows the patch")
                .await;
        }
        if let Some(delete) = &resource.delete {
            self.send(
                delete,
                "delete → 204",
                HttpRequest::new("DELETE", &item),
                Auth::Valid,
                204,
            )
            .await;
            if let Some(get) = &resource.get {
                self.send(
                    get,
                    "get after delete → 404",
                    HttpRequest::get(&item),
                    Auth::Valid,
                    404,
                )
                .await;
            }
        }
    }

    async fn get_shows(
        &mut self,
        resource: &Resource,
        item: &str,
        sent_body: &Map<String, Value>,
        index: usize,
        name: &str,
    ) {
        let Some(get) = &resource.get else { return };
        let sent = self
            .send(get, name, HttpRequest::get(item), Auth::Valid, 200)
            .await;
        if let Some(got) = sent.json() {
            self.expect_fields(&sent, &got, sent_body, index);
        }
    }

    /// A plain string (or else integer) field and a new valid value for it, so an
    /// update is visible.
    fn changed_value(&mut self, index: usize) -> Option<(String, Value)> {
        let (_, schema) = self.create_schema(index)?;
        let props = schema.get("properties")?.as_object()?;
        let fks: Vec<String> = foreign_keys(&schema).into_iter().map(|f| f.0).collect();
        let plain = |p: &Value, t: &str| {
            sample::types(p).contains(&t)
                && p.get("format").is_none()
                && p.get("pattern").is_none()
                && p.get("enum").is_none()
        };
        let n = self.next_n();
        props
            .iter()
            .filter(|(name, _)| !fks.contains(name))
            .find(|(_, p)| plain(p, "string"))
            .or_else(|| {
                props
                    .iter()
                    .filter(|(name, _)| !fks.contains(name))
                    .find(|(_, p)| plain(p, "integer"))
            })
            .map(|(name, p)| (name.clone(), sample::value_for(p, n + 1)))
    }

    /// Checks that `got` holds every value of `sent` (date-times and numbers compared
    /// by meaning, not spelling).
    fn expect_fields(&mut self, sent: &Sent, got: &Value, body: &Map<String, Value>, index: usize) {
        let schema = self
            .create_schema(index)
            .map(|s| s.1)
            .unwrap_or(Value::Null);
        let mut wrong = Vec::new();
        for (field, value) in body {
            let prop = schema.pointer(&format!("/properties/{}", api_map::escape(field)));
            let is_datetime =
                prop.and_then(|p| p.get("format")).and_then(Value::as_str) == Some("date-time");
            let actual = got.get(field);
            let same = match (actual, value) {
                (None, _) => false,
                (Some(a), v) if is_datetime => same_instant(a, v),
                (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Some(a), b) => a == b,
            };
            if !same {
                wrong.push(format!(
                    "{field} is {} (sent {value})",
                    actual.map_or_else(|| "missing".to_owned(), Value::to_string)
                ));
            }
        }
        if wrong.is_empty() {
            self.also_expected(sent, "the body holds the values sent");
        } else {
            self.fail(sent, "the body holds the values sent", &wrong.join(", "));
        }
    }

    async fn invalid_creates(&mut self, index: usize) {
        let Some(create) = self.map.resources[index].create.clone() else {
            return;
        };
        let Some((_, schema)) = self.create_schema(index) else {
            return;
        };
        let Some(valid) = self.valid_body(index, 0).await else {
            return;
        };
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required: Vec<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let fks: Vec<String> = foreign_keys(&schema).into_iter().map(|f| f.0).collect();
        let mut cases: Vec<(String, Map<String, Value>)> = Vec::new();
        for field in &required {
            let mut body = valid.clone();
            body.remove(field);
            cases.push((format!("missing required field {field:?} → 422"), body));
        }
        if let Some((field, bad)) = props
            .iter()
            .filter(|(n, _)| !fks.contains(n))
            .find_map(|(n, p)| sample::wrong_type(p).map(|v| (n.clone(), v)))
        {
            let mut body = valid.clone();
            body.insert(field.clone(), bad.clone());
            cases.push((format!("wrong type for {field:?} ({bad}) → 422"), body));
        }
        if let Some((field, (bad, why))) = props
            .iter()
            .filter(|(n, _)| !fks.contains(n))
            .find_map(|(n, p)| sample::out_of_range(p).map(|v| (n.clone(), v)))
        {
            let mut body = valid.clone();
            body.insert(field.clone(), bad);
            cases.push((format!("{field:?} {why} → 422"), body));
        }
        if let Some(field) = props
            .iter()
            .find(|(_, p)| p.get("enum").is_some())
            .map(|(n, _)| n.clone())
        {
            let mut body = valid.clone();
            body.insert(field.clone(), json!("not-a-valid-choice"));
            cases.push((format!("bad enum value for {field:?} → 422"), body));
        }
        let missing_parent = fks.first().map(|field| {
            let mut body = valid.clone();
            body.insert(field.clone(), json!(UNKNOWN_ID));
            (format!("{field:?} names no existing parent → 409"), body)
        });
        if let Some((name, body)) = missing_parent {
            self.send(
                &create,
                name,
                post(&create.path, &Value::Object(body)),
                Auth::Valid,
                409,
            )
            .await;
        }
        for (name, body) in cases {
            self.send(
                &create,
                name,
                post(&create.path, &Value::Object(body)),
                Auth::Valid,
                422,
            )
            .await;
        }
        let malformed = HttpRequest {
            method: "POST".into(),
            path: create.path.clone(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{\"unterminated\": ".to_vec(),
        };
        self.send(&create, "malformed JSON → 422", malformed, Auth::Valid, 422)
            .await;
        if let Some(field) = props
            .iter()
            .find(|(_, p)| sample::is_unique(p))
            .map(|(n, _)| n.clone())
            && let Some(body) = self.valid_body(index, 0).await
        {
            let first = self
                .send(
                    &create,
                    format!("create before a duplicate {field:?}"),
                    post(&create.path, &Value::Object(body.clone())),
                    Auth::Valid,
                    201,
                )
                .await;
            if first.status() == Some(201) {
                let mut again = self.valid_body(index, 0).await.unwrap_or_default();
                if let Some(v) = body.get(&field) {
                    again.insert(field.clone(), v.clone());
                }
                self.send(
                    &create,
                    format!("duplicate unique {field:?} → 409"),
                    post(&create.path, &Value::Object(again)),
                    Auth::Valid,
                    409,
                )
                .await;
            }
        }
    }

    async fn unknown_ids_and_bad_updates(&mut self, index: usize) {
        let resource = self.map.resources[index].clone();
        let unknown = format!("/{}/{UNKNOWN_ID}", resource.plural);
        let body = self.valid_body(index, 0).await.map(Value::Object);
        if let Some(get) = &resource.get {
            self.send(
                get,
                "unknown id → 404",
                HttpRequest::get(&unknown),
                Auth::Valid,
                404,
            )
            .await;
        }
        if let (Some(replace), Some(body)) = (&resource.replace, &body) {
            let request = HttpRequest::new("PUT", &unknown).json(body);
            self.send(replace, "unknown id → 404", request, Auth::Valid, 404)
                .await;
        }
        if let (Some(patch), Some((field, value))) = (&resource.patch, self.changed_value(index)) {
            let request = HttpRequest::new("PATCH", &unknown).json(&json!({ field: value }));
            self.send(patch, "unknown id → 404", request, Auth::Valid, 404)
                .await;
        }
        if let Some(delete) = &resource.delete {
            self.send(
                delete,
                "unknown id → 404",
                HttpRequest::new("DELETE", &unknown),
                Auth::Valid,
                404,
            )
            .await;
        }
        // Invalid updates of an existing instance.
        if resource.replace.is_none() && resource.patch.is_none() {
            return;
        }
        let Some(id) = self.parent_instance(index, 0).await else {
            return;
        };
        let item = format!("/{}/{id}", resource.plural);
        let Some((_, schema)) = self.create_schema(index) else {
            return;
        };
        let fks: Vec<String> = foreign_keys(&schema).into_iter().map(|f| f.0).collect();
        let wrong = schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|props| {
                props
                    .iter()
                    .filter(|(n, _)| !fks.contains(n))
                    .find_map(|(n, p)| sample::wrong_type(p).map(|v| (n.clone(), v)))
            });
        let Some((field, bad)) = wrong else { return };
        if let (Some(replace), Some(Value::Object(body))) = (&resource.replace, &body) {
            let mut body = body.clone();
            for f in &fks {
                body.remove(f);
            }
            let mut with_parents = self.valid_body(index, 0).await.unwrap_or_default();
            with_parents.extend(body);
            with_parents.insert(field.clone(), bad.clone());
            let request = HttpRequest::new("PUT", &item).json(&Value::Object(with_parents));
            self.send(
                replace,
                format!("replace with wrong type for {field:?} → 422"),
                request,
                Auth::Valid,
                422,
            )
            .await;
        }
        if let Some(patch) = &resource.patch {
            let request = HttpRequest::new("PATCH", &item).json(&json!({ field.clone(): bad }));
            self.send(
                patch,
                format!("patch with wrong type for {field:?} → 422"),
                request,
                Auth::Valid,
                422,
            )
            .await;
            let malformed = HttpRequest {
                method: "PATCH".into(),
                path: item.clone(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"[not json".to_vec(),
            };
            self.send(
                patch,
                "patch with malformed JSON → 422",
                malformed,
                Auth::Valid,
                422,
            )
            .await;
        }
    }

    async fn list_parameters(&mut self, index: usize) {
        let resource = self.map.resources[index].clone();
        let Some(list) = resource.list.clone() else {
            return;
        };
        // Two fresh instances so paging and order are observable.
        let mut ids = Vec::new();
        for _ in 0..2 {
            if let Some(id) = self
                .create_instance(index, 0, "create (for the list checks)")
                .await
            {
                ids.push(id);
            }
        }
        let names: Vec<String> = list
            .parameters
            .iter()
            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
            .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let has = |n: &str| names.iter().any(|x| x == n);
        let path_with =
            |pairs: &[(&str, &str)]| format!("{}?{}", list.path, list_query(&list, pairs));
        let all = self
            .send(
                &list,
                "list with the largest page",
                HttpRequest::get(path_with(&[("sort", "id")])),
                Auth::Valid,
                200,
            )
            .await;
        let all_ids = item_ids(all.json().as_ref());
        if has("limit") {
            let sent = self
                .send(
                    &list,
                    "limit=1 → one item",
                    HttpRequest::get(format!("{}?limit=1", list.path)),
                    Auth::Valid,
                    200,
                )
                .await;
            if let Some(page) = sent.json() {
                let count = page
                    .get("items")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let limit = page.get("limit").and_then(Value::as_i64);
                if count == 1 && limit == Some(1) {
                    self.also_expected(&sent, "1 item and limit 1");
                } else {
                    self.fail(
                        &sent,
                        "1 item and limit 1",
                        &format!("{count} items, limit {limit:?}"),
                    );
                }
            }
            for bad in ["0", "-1", "abc"] {
                self.send(
                    &list,
                    format!("limit={bad} → 422"),
                    HttpRequest::get(format!("{}?limit={bad}", list.path)),
                    Auth::Valid,
                    422,
                )
                .await;
            }
            if let Some(max) = param_schema(&list, "limit")
                .and_then(|s| s.get("maximum"))
                .and_then(Value::as_i64)
            {
                let too_many = max + 1;
                self.send(
                    &list,
                    format!("limit={too_many} (above the maximum) → 422"),
                    HttpRequest::get(format!("{}?limit={too_many}", list.path)),
                    Auth::Valid,
                    422,
                )
                .await;
            }
        }
        if has("offset") && all_ids.len() >= 2 {
            let sent = self
                .send(
                    &list,
                    "offset=1 skips the first",
                    HttpRequest::get(path_with(&[("sort", "id"), ("offset", "1")])),
                    Auth::Valid,
                    200,
                )
                .await;
            let got = item_ids(sent.json().as_ref());
            if got.first() == all_ids.get(1) {
                self.also_expected(&sent, "the page starts at the second item");
            } else {
                self.fail(
                    &sent,
                    &format!("first id {:?}", all_ids.get(1)),
                    &format!("ids {got:?}"),
                );
            }
            self.send(
                &list,
                "offset=-1 → 422",
                HttpRequest::get(format!("{}?offset=-1", list.path)),
                Auth::Valid,
                422,
            )
            .await;
        }
        if has("sort") {
            let values: Vec<String> = param_schema(&list, "sort")
                .and_then(|s| s.get("enum"))
                .and_then(Value::as_array)
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            for value in values {
                let sent = self
                    .send(
                        &list,
                        format!("sort={value}"),
                        HttpRequest::get(path_with(&[("sort", &value)])),
                        Auth::Valid,
                        200,
                    )
                    .await;
                let got = item_ids(sent.json().as_ref());
                let ordered = match value.as_str() {
                    "id" => Some(got.windows(2).all(|w| w[0] < w[1])),
                    "-id" => Some(got.windows(2).all(|w| w[0] > w[1])),
                    _ => None,
                };
                match ordered {
                    Some(true) => self.also_expected(&sent, "ids in that order"),
                    Some(false) => self.fail(&sent, "ids in that order", &format!("ids {got:?}")),
                    None => {}
                }
            }
            self.send(
                &list,
                "unknown sort field → 422",
                HttpRequest::get(format!("{}?sort=no_such_field", list.path)),
                Auth::Valid,
                422,
            )
            .await;
        }
        // Filters and search, using the values of the newest instance.
        let Some(&id) = ids.last() else { return };
        let Some(instance) = self.fetch(&resource, id).await else {
            return;
        };
        for p in &list.parameters {
            let Some(name) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            if ["limit", "offset", "sort"].contains(&name)
                || p.get("in").and_then(Value::as_str) != Some("query")
            {
                continue;
            }
            if name == "q" {
                self.search(&list, p, &instance, id).await;
                continue;
            }
            let Some(value) = instance.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let sent = self
                .send(
                    &list,
                    format!("filter {name}={text}"),
                    HttpRequest::get(path_with(&[(name, &text)])),
                    Auth::Valid,
                    200,
                )
                .await;
            let items = items(sent.json().as_ref());
            let all_match = items.iter().all(|i| i.get(name) == Some(value));
            let contains = items
                .iter()
                .any(|i| i.get("id").and_then(Value::as_i64) == Some(id));
            let expected = format!("every item has {name} = {value}, id {id} among them");
            if all_match && contains {
                self.also_expected(&sent, &expected);
            } else {
                let got: Vec<String> = items
                    .iter()
                    .map(|i| {
                        format!(
                            "{}:{}",
                            i.get("id").unwrap_or(&Value::Null),
                            i.get(name).unwrap_or(&Value::Null)
                        )
                    })
                    .collect();
                self.fail(&sent, &expected, &format!("items (id:{name}) {got:?}"));
            }
        }
    }

    async fn search(&mut self, list: &Operation, param: &Value, instance: &Value, id: i64) {
        let fields: Vec<&str> = param
            .get(EXT_SEARCH)
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let Some(text) = fields.iter().find_map(|f| {
            instance
                .get(*f)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        }) else {
            return;
        };
        // Upper case: the contract says the match ignores case.
        let needle = text.to_uppercase();
        let path = format!("{}?{}", list.path, list_query(list, &[("q", &needle)]));
        let sent = self
            .send(
                list,
                format!("q={needle} (case-insensitive search)"),
                HttpRequest::get(path),
                Auth::Valid,
                200,
            )
            .await;
        let ids = item_ids(sent.json().as_ref());
        if ids.contains(&id) {
            self.also_expected(&sent, &format!("items contain id {id}"));
        } else {
            self.fail(
                &sent,
                &format!("items contain id {id}"),
                &format!("ids {ids:?}"),
            );
        }
    }

    async fn fetch(&mut self, resource: &Resource, id: i64) -> Option<Value> {
        let get = resource.get.clone()?;
        let item = format!("/{}/{id}", resource.plural);
        self.send(
            &get,
            "get (for the filter checks)",
            HttpRequest::get(item),
            Auth::Valid,
            200,
        )
        .await
        .json()
    }

    async fn custom_actions(&mut self) {
        let crud: Vec<String> = self
            .map
            .resources
            .iter()
            .flat_map(|r| [&r.list, &r.create, &r.get, &r.replace, &r.patch, &r.delete])
            .filter_map(|o| o.as_ref().map(|o| o.id.clone()))
            .collect();
        let actions: Vec<Operation> = self
            .map
            .operations
            .iter()
            .filter(|o| o.path != "/health" && !crud.contains(&o.id))
            .cloned()
            .collect();
        for op in actions {
            let Some(path) = self.action_path(&op).await else {
                continue;
            };
            let mut request = HttpRequest::new(op.method.clone(), path);
            if let Some(pointer) = &op.body_schema {
                let schema = self
                    .spec
                    .pointer(pointer)
                    .map(|s| resolve(self.spec, s).clone())
                    .unwrap_or(Value::Null);
                let n = self.next_n();
                request = request.json(&Value::Object(sample::body_for(&schema, n)));
            }
            let documented: Vec<u16> = self
                .spec
                .pointer(&format!("{}/responses", op.pointer))
                .and_then(Value::as_object)
                .map(|r| r.keys().filter_map(|k| k.parse().ok()).collect())
                .unwrap_or_default();
            let success = documented
                .iter()
                .copied()
                .find(|s| (200..300).contains(s))
                .unwrap_or(200);
            let sent = self
                .send(
                    &op,
                    "custom action with a valid request",
                    request,
                    Auth::Valid,
                    success,
                )
                .await;
            // A documented refusal (409 precondition, 501 no handler) is the
            // contract's own answer, not a failure.
            if let Some(status) = sent.status()
                && status != success
                && (status == 409 || status == 501)
                && documented.contains(&status)
            {
                let problems = self
                    .response_problems(&op, sent.response.as_ref())
                    .unwrap_or_default();
                let check = &mut self.checks[sent.check];
                check.expected = format!("status {success}, or a documented 409/501 refusal");
                if problems.is_empty() {
                    check.passed = true;
                    check.got = format!("status {status}");
                }
            }
        }
    }

    fn response_problems(
        &mut self,
        op: &Operation,
        response: Option<&HttpResponse>,
    ) -> Option<Vec<String>> {
        response.map(|r| self.checker.check(op, r))
    }

    /// The path of a custom action with its parameters filled: `{id}` names an
    /// instance of the resource the path starts with.
    async fn action_path(&mut self, op: &Operation) -> Option<String> {
        let mut path = op.path.clone();
        while let Some(start) = path.find('{') {
            let end = path[start..].find('}')? + start;
            let name = path[start + 1..end].to_owned();
            let first = op
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or("");
            let value = if name == "id" {
                let index = self.map.resources.iter().position(|r| r.plural == first)?;
                self.parent_instance(index, 0).await?.to_string()
            } else {
                "1".to_owned()
            };
            path.replace_range(start..=end, &value);
        }
        Some(path)
    }
}

fn post(path: &str, body: &Value) -> HttpRequest {
    HttpRequest::new("POST", path).json(body)
}

/// A list query with the largest page the spec allows plus `pairs`, URL-encoded.
fn list_query(list: &Operation, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(max) = param_schema(list, "limit")
        .and_then(|s| s.get("maximum"))
        .and_then(Value::as_i64)
    {
        query.append_pair("limit", &max.to_string());
    }
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    query.finish()
}

fn param_schema<'o>(op: &'o Operation, name: &str) -> Option<&'o Value> {
    op.parameters
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|p| p.get("schema"))
}

fn items(page: Option<&Value>) -> Vec<Value> {
    page.and_then(|p| p.get("items"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn item_ids(page: Option<&Value>) -> Vec<i64> {
    items(page)
        .iter()
        .filter_map(|i| i.get("id").and_then(Value::as_i64))
        .collect()
}

fn same_instant(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => match (
            chrono::DateTime::parse_from_rfc3339(a),
            chrono::DateTime::parse_from_rfc3339(b),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        },
        _ => a == b,
    }
}

/// `METHOD path body` with the body shortened.
fn summarize(request: &HttpRequest) -> String {
    if request.body.is_empty() {
        format!("{} {}", request.method, request.path)
    } else {
        let body = String::from_utf8_lossy(&request.body);
        format!(
            "{} {} {}",
            request.method,
            request.path,
            shorten(&body, SUMMARY_BODY_CHARS)
        )
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_without_paths_is_refused() {
        let err = ApiMap::read(&json!({"openapi": "3.1.0"})).err();
        assert!(matches!(err, Some(ContractError::Spec(_))));
    }

    #[tokio::test]
    async fn an_unreachable_server_gives_failed_checks_not_a_panic() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let client = HttpClient::unix(dir.path().join("absent.sock"));
        let spec = json!({
            "paths": {
                "/health": {"get": {"responses": {"200": {"description": "ok"}}}},
                "/odd/{slug}/deeper": {"post": {"operationId": "odd", "responses": {}}}
            }
        });
        let checks = run(&client, &spec, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(checks.len(), 2);
        assert!(
            checks
                .iter()
                .all(|c| !c.passed && c.got.starts_with("no response"))
        );
        assert!(checks[0].curl.contains("--unix-socket"));
    }
}
