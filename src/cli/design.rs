//! `apiforge design PROMPT [--base apiforge.json] [--provider rules] [--json] [--strict]`:
//! the design as a tree, then the warnings of its review.

use crate::cli::stdout::out;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, print_json};
use crate::design::review::{Review, ShownWarning, tree};
use crate::design::{ApiDesign, validate};
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
    /// Print {"design": …, "warnings": […]} as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when the review has any warning (after printing it), for scripts.
    #[arg(long)]
    pub strict: bool,
}

/// `design --json`: the design and what its review found.
#[derive(serde::Serialize)]
pub struct Reviewed<'a> {
    pub design: &'a ApiDesign,
    pub warnings: Vec<ShownWarning<'a>>,
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
    let review = crate::design::review(&args.prompt, &design, base.as_ref());
    print_reviewed(&design, &review, args.json)?;
    Ok(strict_exit(args.strict, &review))
}

/// The design and its warnings: the tree, or JSON.
pub fn print_reviewed(design: &ApiDesign, review: &Review, json: bool) -> Result<(), Failure> {
    if json {
        print_json(&Reviewed {
            design,
            warnings: review.shown(),
        })
    } else {
        out!("{}", tree::text(design, review));
        Ok(())
    }
}

/// Exit 1 under `--strict` when there are warnings.
pub fn strict_exit(strict: bool, review: &Review) -> ExitCode {
    if strict && !review.is_empty() {
        if let [one] = review.warnings.as_slice() {
            eprintln!("--strict: refusing because of a warning: {one}");
        } else {
            eprintln!(
                "--strict: refusing because of {} warnings",
                review.warnings.len()
            );
        }
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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
    let design = parse_design(&text).map_err(|e| {
        Failure::usage(format!(
            "{} is not a valid design file: {e}; it must be the JSON apiforge writes as apiforge.json",
            path.display()
        ))
    })?;
    validate(&design)
        .map_err(|e| Failure::usage(format!("{} is not a valid design: {e}", path.display())))?;
    Ok(design)
}

/// A design from JSON text; an error names the JSON path of the offending part
/// (`resources[2].fields[0].type: unknown variant …`).
pub fn parse_design(text: &str) -> Result<ApiDesign, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let design: ApiDesign = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(design)
}
