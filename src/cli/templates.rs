//! `apiforge templates [NAME] [--json]`: the starter designs.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::context::{Context, Failure, print_json};
use crate::design::AuthScheme;
use crate::templates::{self, Template};

#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Print this template's full design (ApiDesign JSON) instead of the list.
    pub name: Option<String>,
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    name: &'a str,
    description: &'a str,
    title: &'a str,
    resources: Vec<&'a str>,
    actions: Vec<&'a str>,
    auth: &'static str,
}

fn auth_kind(auth: &AuthScheme) -> &'static str {
    match auth {
        AuthScheme::None => "none",
        AuthScheme::ApiKey { .. } => "api_key",
        AuthScheme::BearerJwt { .. } => "bearer_jwt",
    }
}

fn summary(t: &Template) -> Summary<'_> {
    Summary {
        name: t.name,
        description: t.description,
        title: &t.design.title,
        resources: t.design.resources.iter().map(|r| r.name.as_str()).collect(),
        actions: t.design.actions.iter().map(|a| a.name.as_str()).collect(),
        auth: auth_kind(&t.design.auth),
    }
}

pub async fn run(_ctx: &Context, args: TemplatesArgs) -> Result<ExitCode, Failure> {
    if let Some(name) = args.name {
        let Some(template) = templates::get(&name) else {
            return Err(Failure::usage(format!(
                "there is no template called \"{name}\"; choose one of: {}",
                templates::names().join(", ")
            )));
        };
        print_json(&template.design)?;
        return Ok(ExitCode::SUCCESS);
    }
    let all = templates::all();
    if args.json {
        let summaries: Vec<Summary<'_>> = all.iter().map(summary).collect();
        print_json(&summaries)?;
    } else {
        for t in &all {
            let s = summary(t);
            let auth = if s.auth == "none" {
                String::new()
            } else {
                format!(" [auth: {}]", s.auth)
            };
            outln!("{:<10} {}{auth}", s.name, s.description);
            outln!("{:<10} resources: {}", "", s.resources.join(", "));
        }
        outln!();
        outln!("Print a template's design with: apiforge templates NAME");
    }
    Ok(ExitCode::SUCCESS)
}
