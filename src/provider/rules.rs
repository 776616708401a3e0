//! The built-in provider: reads plain English with rules and a small lexicon. Offline,
//! deterministic and fast; every design it returns passes [`validate`].
//!
//! What it understands is described in the module docs of its parts: [`reader`]
//! (resources, fields, relations, list options), [`field_phrase`] (one field with its
//! type, constraints and enum values), [`followup`] (edits to an existing design).

mod design_notes;
mod draft;
mod field_phrase;
mod followup;
mod inflection;
mod lexicon;
mod reader;
mod text;

use regex::Regex;

use crate::design::{ApiDesign, AuthScheme, DesignErrors, validate};
use crate::provider::DesignRequest;
use draft::Draft;

pub use design_notes::{DesignNotes, Suspicion, SuspiciousField};
pub use inflection::{plural, singular};

/// Shown whenever a prompt cannot be read, so the person knows what works.
pub const EXAMPLE: &str = "\"a bookstore API: books (title, isbn unique, price, stock) and publishers (name, country); each book belongs to a publisher; search books by title\"";

const FOLLOWUP_EXAMPLES: &str = "\"add a due date to tasks\", \"remove the notes field\", \"rename title to name\", \"make email unique\", \"let me filter tasks by status\", \"comments belong to posts\"";

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error(
        "the prompt is empty; describe the things your API manages and their fields, for example {EXAMPLE}"
    )]
    Empty,
    #[error(
        "the prompt is {chars} characters long; the rules provider reads at most {max}. Describe the resources and fields in a few sentences, for example {EXAMPLE}"
    )]
    TooLong { chars: usize, max: usize },
    #[error(
        "the rules provider reads English only and this prompt looks like another language; write it in English, for example {EXAMPLE}, or use the openai provider"
    )]
    NotEnglish,
    #[error(
        "no resources found in {prompt:?}; name the things your API manages (plural nouns) and their fields, for example {EXAMPLE}"
    )]
    NothingRecognised { prompt: String },
    #[error("could not understand the follow-up {prompt:?}; try for example {FOLLOWUP_EXAMPLES}")]
    FollowupNotUnderstood { prompt: String },
    #[error("{0}")]
    Ambiguous(String),
    #[error("the base design is invalid, so it cannot be changed: {0}")]
    InvalidBase(DesignErrors),
    #[error("the prompt led to a design that is not valid; rephrase it. {0}")]
    Invalid(DesignErrors),
}

/// A design together with what its reading left out or found doubtful.
#[derive(Debug, Clone)]
pub struct Reading {
    pub design: ApiDesign,
    pub notes: DesignNotes,
}

/// Compiled patterns for the phrases read from the whole prompt at once.
pub struct RulesProvider {
    auth_off: Regex,
    api_key: Regex,
    jwt: Regex,
    header: Regex,
}

impl Default for RulesProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn compile(pattern: &str) -> Regex {
    // The patterns are literals below; a typo is caught by every test.
    Regex::new(pattern).unwrap_or_else(|e| panic!("rules provider pattern {pattern:?}: {e}"))
}

impl RulesProvider {
    pub fn new() -> Self {
        Self {
            auth_off: compile(
                r"\b(?:remove|drop|delete|disable|turn\s+off|get\s+rid\s+of|no|without|no\s+more)\b[^.;]{0,30}?(?:auth(?:entication|enticated|ori[sz]ation)?|api[- _]?keys?|jwts?|login)\b|\bmake\s+(?:it|the\s+api|everything|all\s+routes)\s+public\b",
            ),
            api_key: compile(
                r"(?:(?:secured?|secures|protect|protects|protected|authenticated|authorized|authorised|lock down|locked down|guarded|gated)\s+(?:(?:it|them|everything|the\s+api|all\s+(?:routes|endpoints|requests))\s+)?(?:with|by|using|via|behind|through)\s+(?:an?\s+|static\s+)*api[- _]?keys?(?:\s+(?:in\s+(?:the\s+|a\s+)?)?(?:x-[a-z0-9-]+\s+)?header)?|\bapi[- _]?key\s+(?:auth\w*|security|protection|header|access|required)|\brequires?\s+(?:an?\s+)?api[- _]?keys?|\b(?:using|via|behind|with)\s+(?:an?\s+)?api[- _]?keys?\s+(?:auth\w*|for\s+access)|\b(?:use|uses|using|add|adds|need|needs|require|requires)\s+(?:an?\s+)?api[- _]?keys?\b|\bx-api-key\b)",
            ),
            jwt: compile(
                r"(?:\bjwts?\b(?:\s+(?:auth\w*|tokens?|bearer))*|\bbearer(?:\s+tokens?)?(?:\s+auth\w*)?|\bjson web tokens?|\b(?:only\s+)?(?:logged|signed)[- ]in\s+users?|\b(?:must|need\s+to|needs\s+to|have\s+to|has\s+to|should)\s+(?:be\s+)?(?:logged|signed)[- ]in|\b(?:must|need\s+to|have\s+to)\s+(?:log|sign)[- ]?in|\brequires?\s+(?:user\s+)?(?:login|log-in|authentication|auth|sign[- ]in)\b|\b(?:secured|protected)\s+(?:with|by)\s+(?:token|user)\s*(?:auth\w*|login|tokens?)?|\bauthenticated\s+(?:users?|requests?|clients?|access)|\b(?:behind|with|add|needs?|using)\s+(?:user\s+|token\s+)?(?:authentication|auth|login)\b|\btoken[- ]based\s+auth\w*|\b(?:only\s+)?authenticated\b)",
            ),
            header: compile(r"\b(x-[a-z0-9-]+)\s+header"),
        }
    }

    /// Answers a [`DesignRequest`]: a fresh design, or a follow-up applied to its base.
    pub fn handle(&self, request: &DesignRequest<'_>) -> Result<ApiDesign, RulesError> {
        match request.base {
            Some(base) => self.apply(base, request.prompt),
            None => self.design(request.prompt),
        }
    }

    /// Like [`handle`](Self::handle), with notes on the words the reading ignored and
    /// the field names that look misread (for warnings shown beside the design).
    pub fn read(&self, request: &DesignRequest<'_>) -> Result<Reading, RulesError> {
        let design = self.handle(request)?;
        let notes = design_notes::notes(request.prompt, &design);
        Ok(Reading { design, notes })
    }

    /// Designs an API from a fresh prompt.
    pub fn design(&self, prompt: &str) -> Result<ApiDesign, RulesError> {
        let text = self.prepare(prompt)?;
        let mut design = ApiDesign::new("API");
        let (auth, text) = match self.auth_off.find(&text) {
            Some(m) => (None, format!("{} {}", &text[..m.start()], &text[m.end()..])),
            None => self.auth(&text),
        };
        if let Some(auth) = auth {
            design.auth = auth;
        }
        let mut draft = Draft::new(design);
        let sentences = text::sentences(&text);
        let (title, first) = match sentences.first() {
            Some(s) => title_and_rest(s),
            None => (None, None),
        };
        for (i, s) in sentences.iter().enumerate() {
            let s = if i == 0 {
                first.as_deref().unwrap_or(s)
            } else {
                s
            };
            reader::read_sentence(&mut draft, s);
        }
        if draft.is_empty() {
            // Nothing structured: name the known entities the prompt mentions.
            for w in text::words(&text) {
                if draft::is_entity_like(w)
                    && lexicon::entity(&singular(w)).is_some()
                    && inflection::looks_plural(w)
                {
                    draft.ensure_resource(w);
                }
            }
        }
        if draft.is_empty() {
            // Only an app named ("a simple blog"): what such an app manages.
            let ws = text::words(&text);
            if let Some((_, entities)) = lexicon::APPS.iter().find(|(app, _)| ws.contains(app)) {
                for e in *entities {
                    draft.ensure_resource(e);
                }
            }
        }
        if draft.is_empty() {
            return Err(RulesError::NothingRecognised {
                prompt: shorten(prompt),
            });
        }
        let mut design = draft.finish();
        design.title = title.unwrap_or_else(|| {
            let first = design.resources.first().map_or("", |r| r.plural.as_str());
            format!(
                "{} API",
                text::title_case(&first.split('_').collect::<Vec<_>>())
            )
        });
        design.description = shorten_to(prompt.trim(), 500);
        sanitise(&mut design);
        validate(&design).map_err(RulesError::Invalid)?;
        Ok(design)
    }

    /// Applies a follow-up prompt to `base`.
    pub fn apply(&self, base: &ApiDesign, followup: &str) -> Result<ApiDesign, RulesError> {
        validate(base).map_err(RulesError::InvalidBase)?;
        let text = self.prepare(followup)?;
        let mut draft = Draft::new(base.clone());
        let mut changed = false;
        let (auth, text) = match self.auth_off.find(&text) {
            Some(m) => (
                Some(AuthScheme::None),
                format!("{} {}", &text[..m.start()], &text[m.end()..]),
            ),
            None => self.auth(&text),
        };
        if let Some(auth) = auth {
            draft.design.auth = auth;
            changed = true;
        }
        for sentence in text::sentences(&text) {
            for command in followup::commands(&sentence) {
                changed |= followup::apply(&mut draft, &command)?;
            }
        }
        if !changed {
            return Err(RulesError::FollowupNotUnderstood {
                prompt: shorten(followup),
            });
        }
        let mut design = draft.finish();
        sanitise(&mut design);
        validate(&design).map_err(RulesError::Invalid)?;
        Ok(design)
    }

    fn prepare(&self, prompt: &str) -> Result<String, RulesError> {
        let chars = prompt.chars().count();
        if prompt.trim().is_empty() {
            return Err(RulesError::Empty);
        }
        if chars > text::MAX_PROMPT_CHARS {
            return Err(RulesError::TooLong {
                chars,
                max: text::MAX_PROMPT_CHARS,
            });
        }
        let (text, foreign) = text::normalise(prompt);
        let ascii_letters = text.bytes().filter(u8::is_ascii_alphabetic).count();
        if foreign * 4 > ascii_letters + foreign
            || (foreign > 0 && ascii_letters == 0)
            || text::looks_foreign(&text)
        {
            return Err(RulesError::NotEnglish);
        }
        Ok(text)
    }

    /// Finds an auth phrase, returns the scheme and the text without the phrase.
    fn auth(&self, text: &str) -> (Option<AuthScheme>, String) {
        if let Some(m) = self.api_key.find(text) {
            let header = self
                .header
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|h| canonical_header(h.as_str()))
                .unwrap_or_else(|| "X-API-Key".to_owned());
            let rest = format!("{} {}", &text[..m.start()], &text[m.end()..]);
            return (
                Some(AuthScheme::ApiKey {
                    header,
                    env_var: "API_KEY".to_owned(),
                }),
                rest,
            );
        }
        if let Some(m) = self.jwt.find(text) {
            let rest = format!("{} {}", &text[..m.start()], &text[m.end()..]);
            return (
                Some(AuthScheme::BearerJwt {
                    env_var: "JWT_SECRET".to_owned(),
                }),
                rest,
            );
        }
        (None, text.to_owned())
    }
}

/// "cancel" → "Cancel".
pub(crate) fn capitalise(word: &str) -> String {
    let mut c = word.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn canonical_header(h: &str) -> String {
    h.split('-')
        .map(|p| match p {
            "api" => "API".to_owned(),
            "x" => "X".to_owned(),
            p => {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The title from the first sentence ("A task manager API: …" → "Task Manager API")
/// and the part of that sentence left to read.
fn title_and_rest(sentence: &str) -> (Option<String>, Option<String>) {
    let mut depth = 0usize;
    let mut colon = None;
    for (i, b) in sentence.bytes().enumerate() {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => {
                colon = Some(i);
                break;
            }
            _ => {}
        }
    }
    if let Some(c) = colon {
        let prefix = &sentence[..c];
        let rest = &sentence[c + 1..];
        let pw = text::words(prefix);
        if !pw.is_empty() && pw.len() <= 8 && !prefix.contains(" with ") {
            // "teams (name, city)" after the colon lists resources, "status (open,
            // done)" or "paid (yes/no)" is one field.
            let lists_resources = text::split_list(rest, false).iter().any(|item| {
                item.split_once('(').is_some_and(|(head, inner)| {
                    text::words(head)
                        .last()
                        .is_some_and(|w| inflection::looks_plural(w))
                        && reader::inner_is_fieldy(inner)
                })
            });
            let bare_fields = !rest.contains(" with ")
                && !lists_resources
                && !rest.contains(" has ")
                && !rest.contains(" have ");
            // "manage found items: …", "I want to track my runs: …": the plural the
            // prefix ends on owns the fields after the colon.
            // "snippets api: …" names its one resource before the app word.
            let mut named = pw.clone();
            while named.last().is_some_and(|w| draft::APP_WORDS.contains(w)) {
                named.pop();
            }
            let entity = draft::noun_phrase(&named.join(" ")).filter(|np| {
                np.rsplit(' ')
                    .next()
                    .is_some_and(|w| inflection::looks_plural(w) && !draft::APP_WORDS.contains(&w))
            });
            let single_entity = bare_fields && entity.is_some();
            if let (true, Some(np)) = (single_entity, entity) {
                return (None, Some(format!("{np} with {rest}")));
            }
            return (title_from(&pw), Some(rest.to_owned()));
        }
    }
    let ws = text::words(sentence);
    // "Bookstore API with …", "a guestbook where …", "I need an API for a clinic …"
    let cut = ws
        .iter()
        .position(|w| {
            matches!(
                *w,
                "with"
                    | "where"
                    | "that"
                    | "which"
                    | "to"
                    | "having"
                    | "has"
                    | "for"
                    | "who"
                    | "in"
                    | "containing"
            )
        })
        .unwrap_or(ws.len());
    let head = &ws[..cut];
    if head.iter().any(|w| draft::APP_WORDS.contains(w)) {
        if let Some(api) = head
            .iter()
            .position(|w| matches!(*w, "api" | "app" | "service" | "backend" | "application"))
            && api + 1 == head.len()
            && let Some(for_pos) = ws.iter().position(|w| *w == "for")
            && for_pos == cut
        {
            // "an API for a bakery …"
            let tail: Vec<&str> = ws[for_pos + 1..]
                .iter()
                .take_while(|w| {
                    !matches!(
                        **w,
                        "with" | "where" | "that" | "which" | "to" | "having" | "and"
                    )
                })
                .copied()
                .collect();
            return (title_from(&tail).or_else(|| title_from(head)), None);
        }
        return (title_from(head), None);
    }
    // "Expense tracking with …", "Fleet management: …".
    if (1..=3).contains(&head.len())
        && head.last().is_some_and(|w| {
            (w.ends_with("ing") || w.ends_with("ment")) && lexicon::entity(w).is_none()
        })
    {
        return (title_from(head), None);
    }
    if matches!(ws.first(), Some(&"a") | Some(&"an")) && (1..=3).contains(&(cut.saturating_sub(1)))
    {
        let last = head.last().copied().unwrap_or("");
        if !inflection::looks_plural(last) && lexicon::entity(last).is_none() {
            return (title_from(head), None);
        }
    }
    (None, None)
}

fn title_from(ws: &[&str]) -> Option<String> {
    let mut ws: Vec<&str> = ws.to_vec();
    while let Some(first) = ws.first() {
        if matches!(
            *first,
            "a" | "an"
                | "the"
                | "i"
                | "we"
                | "need"
                | "want"
                | "build"
                | "create"
                | "make"
                | "write"
                | "design"
                | "me"
                | "us"
                | "please"
                | "simple"
                | "basic"
                | "small"
                | "tiny"
                | "little"
                | "rest"
                | "restful"
                | "json"
                | "http"
                | "my"
                | "our"
                | "new"
                | "an_api"
                | "generate"
                | "let's"
                | "lets"
        ) {
            ws.remove(0);
        } else {
            break;
        }
    }
    while let Some(last) = ws.last() {
        if matches!(
            *last,
            "api"
                | "app"
                | "application"
                | "service"
                | "backend"
                | "system"
                | "server"
                | "platform"
                | "rest"
                | "restful"
                | "json"
                | "http"
                | "endpoint"
                | "endpoints"
                | "for"
                | "a"
                | "an"
                | "the"
        ) {
            ws.pop();
        } else {
            break;
        }
    }
    let ws: Vec<&str> = ws
        .into_iter()
        .filter(|w| w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .take(5)
        .collect();
    if ws.is_empty() {
        return None;
    }
    Some(format!("{} API", text::title_case(&ws)))
}

/// Drops list options that no longer fit their fields (after a type change or a
/// removal), so the result always validates.
fn sanitise(design: &mut ApiDesign) {
    use crate::design::FieldType;
    for r in &mut design.resources {
        let fields = r.fields.clone();
        let fks: Vec<String> = r.relations.iter().map(|rel| rel.field.clone()).collect();
        let Some(list) = &mut r.operations.list else {
            continue;
        };
        let field = |n: &str| fields.iter().find(|f| f.name == n);
        let usable = |n: &String| {
            !matches!(n.as_str(), "limit" | "offset" | "sort" | "q" | "id")
                && (fks.contains(n) || field(n).is_some_and(|f| f.ty != FieldType::Json))
        };
        list.filters.retain(usable);
        list.sort.retain(usable);
        list.search
            .retain(|n| field(n).is_some_and(|f| f.ty.is_textual()));
        for v in [&mut list.filters, &mut list.search, &mut list.sort] {
            let mut seen = std::collections::BTreeSet::new();
            v.retain(|x| seen.insert(x.clone()));
        }
    }
}

fn shorten(s: &str) -> String {
    shorten_to(s.trim(), 80)
}

fn shorten_to(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
