//! `apiforge design PROMPT [--base apiforge.json] [--provider rules] [--json]`.

use crate::cli::stdout::out;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, print_json};
use crate::design::validate::type_name;
use crate::design::{ApiDesign, AuthScheme, Field, FieldType, validate};
use crate::provider::{DesignRequest, ProviderKind};

#[derive(Debug, Args)]
pub struct DesignArgs {
    /// What the API should do, in plain English; with --base, the change to make.
    pub prompt: String,
    /// Apply PROMPT as a follow-up to this design file (an apiforge.json).
    #[arg(long, value_name = "FILE")]
    pub base: Option<PathBuf>,
    /// Which provider designs the API (default: provider.default from the config).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Print the design as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: DesignArgs) -> Result<ExitCode, Failure> {
    let provider_name = args
        .provider
        .clone()
        .unwrap_or_else(|| ctx.config.provider.default.clone());
    let kind: ProviderKind = provider_name.parse().map_err(Failure::usage)?;
    let base = args.base.as_deref().map(read_design).transpose()?;
    let request = DesignRequest {
        prompt: &args.prompt,
        base: base.as_ref(),
    };
    let design = design_with(ctx, kind, request).await?;
    if args.json {
        print_json(&design)?;
    } else {
        out!("{}", summary(&design));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the provider, showing its progress on stderr; errors map to exit codes.
pub async fn design_with(
    ctx: &Context,
    kind: ProviderKind,
    request: DesignRequest<'_>,
) -> Result<ApiDesign, Failure> {
    let mut on_event = |event: crate::provider::ProviderEvent| {
        if let crate::provider::ProviderEvent::Progress { message } = event {
            tracing::info!("{message}");
            eprintln!("{kind}: {message}");
        }
    };
    crate::provider::design(&ctx.config.provider, kind, request, &mut on_event)
        .await
        .map_err(|e| {
            if e.is_usage() {
                Failure::usage(e.to_string())
            } else {
                Failure::failed(e.to_string())
            }
        })
}

/// Reads and validates a design file; every problem is a usage error (exit 2).
pub fn read_design(path: &std::path::Path) -> Result<ApiDesign, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read the design {}: {e}", path.display())))?;
    let design: ApiDesign = serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{} is not a valid design file: {e}; it must be the JSON apiforge writes as apiforge.json",
            path.display()
        ))
    })?;
    validate(&design)
        .map_err(|e| Failure::usage(format!("{} is not a valid design: {e}", path.display())))?;
    Ok(design)
}

/// A readable overview: resources, fields with types and constraints, relations,
/// list options, auth.
pub fn summary(d: &ApiDesign) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} (v{})\n", d.title, d.version));
    out.push_str(&format!(
        "auth: {}\n",
        match &d.auth {
            AuthScheme::None => "none".to_owned(),
            AuthScheme::ApiKey { header, env_var } =>
                format!("API key in header {header} (secret from ${env_var})"),
            AuthScheme::BearerJwt { env_var } =>
                format!("bearer JWT, HS256 (secret from ${env_var})"),
        }
    ));
    for r in &d.resources {
        out.push_str(&format!("\n{} (/{})\n", r.name, r.plural));
        for f in &r.fields {
            out.push_str(&format!("  {:<22} {}\n", f.name, describe_field(f)));
        }
        for rel in &r.relations {
            out.push_str(&format!(
                "  {:<22} -> {} ({}, on delete {})\n",
                rel.field,
                rel.target,
                if rel.required { "required" } else { "optional" },
                match rel.on_delete {
                    crate::design::OnDelete::Restrict => "restrict",
                    crate::design::OnDelete::Cascade => "cascade",
                    crate::design::OnDelete::SetNull => "set null",
                }
            ));
        }
        let ops = &r.operations;
        let mut names = Vec::new();
        for (on, name) in [
            (ops.list.is_some(), "list"),
            (ops.get, "get"),
            (ops.create, "create"),
            (ops.replace, "replace"),
            (ops.patch, "patch"),
            (ops.delete, "delete"),
        ] {
            if on {
                names.push(name);
            }
        }
        out.push_str(&format!("  operations: {}\n", names.join(", ")));
        if let Some(list) = &ops.list {
            out.push_str(&format!(
                "  pages: {} by default, at most {}\n",
                list.default_page_size, list.max_page_size
            ));
            for (label, v) in [
                ("filters", &list.filters),
                ("search", &list.search),
                ("sort", &list.sort),
            ] {
                if !v.is_empty() {
                    out.push_str(&format!("  {label}: {}\n", v.join(", ")));
                }
            }
        }
    }
    if !d.actions.is_empty() {
        out.push_str("\nactions\n");
        for a in &d.actions {
            out.push_str(&format!(
                "  {:<22} {} {}\n",
                a.name,
                a.method.as_str(),
                a.path
            ));
        }
    }
    out
}

fn describe_field(f: &Field) -> String {
    let mut parts = vec![type_name(f.ty).to_owned()];
    if f.ty == FieldType::Enum {
        parts[0] = format!("enum ({})", f.enum_values.join(", "));
    }
    if f.required {
        parts.push("required".into());
    }
    if f.unique {
        parts.push("unique".into());
    }
    match (f.min, f.max) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b}")),
        (Some(a), None) => parts.push(format!(">= {a}")),
        (None, Some(b)) => parts.push(format!("<= {b}")),
        (None, None) => {}
    }
    match (f.min_length, f.max_length) {
        (Some(a), Some(b)) => parts.push(format!("{a}..={b} chars")),
        (Some(a), None) => parts.push(format!("at least {a} chars")),
        (None, Some(b)) => parts.push(format!("at most {b} chars")),
        (None, None) => {}
    }
    if let Some(p) = &f.pattern {
        parts.push(format!("pattern {p}"));
    }
    if let Some(u) = &f.unit {
        parts.push(format!("in {u}"));
    }
    if let Some(d) = &f.default {
        parts.push(format!("default {d}"));
    }
    parts.join(", ")
}
