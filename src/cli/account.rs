//! `apiforge whoami` and `apiforge projects`.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::context::{Context, Failure, print_json};
use crate::auth::local_sign_in::Identity;

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct WhoAmI<'a> {
    user: &'a Identity,
    database: &'a crate::db::Location,
}

pub async fn whoami(ctx: &Context, args: JsonArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    if args.json {
        print_json(&WhoAmI {
            user: &session.identity,
            database: session.db.location(),
        })?;
    } else {
        let name = if session.identity.display_name.is_empty() {
            session.identity.email.clone()
        } else {
            format!(
                "{} <{}>",
                session.identity.display_name, session.identity.email
            )
        };
        outln!("{name}");
        match session.db.location() {
            crate::db::Location::Embedded { dir } => {
                outln!("database: local ({})", dir.display())
            }
            crate::db::Location::Server { url } => outln!("database: {url}"),
        }
    }
    session.db.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn projects(ctx: &Context, args: JsonArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let mut tx = session
        .db
        .begin_as(&session.token)
        .await
        .map_err(super::context::db_failure)?;
    let projects = crate::db::projects::list(&mut tx)
        .await
        .map_err(super::context::db_failure)?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    if args.json {
        print_json(&projects)?;
    } else if projects.is_empty() {
        outln!("no projects yet: create one with `apiforge new \"a todo API with tasks\"`");
    } else {
        outln!(
            "{:<24} {:<8} {:<9} {:>7}  updated",
            "project",
            "framework",
            "status",
            "version"
        );
        for p in &projects {
            let version = p
                .latest_version
                .map(|v| format!("v{v}"))
                .unwrap_or_else(|| "-".into());
            outln!(
                "{:<24} {:<8} {:<9} {:>7}  {}",
                p.slug,
                p.framework,
                p.status,
                version,
                p.updated_at.format("%Y-%m-%d %H:%M")
            );
        }
    }
    session.db.close().await;
    Ok(ExitCode::SUCCESS)
}
