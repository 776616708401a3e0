//! `apiforge doctor [--json]`.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::Args;

use super::context::{Context, Failure, print_json};
use crate::doctor::{self, Check, Verdict};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: DoctorArgs) -> Result<ExitCode, Failure> {
    let checks = collect(ctx).await;
    if args.json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            let tag = match c.verdict {
                Verdict::Ok => "OK  ",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            outln!("{tag} {:<18} {}", c.name, c.detail);
            if !c.fix.is_empty() {
                outln!("     {:<18} fix: {}", "", c.fix);
            }
        }
    }
    let failed = checks.iter().any(|c| c.verdict == Verdict::Fail);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn collect(ctx: &Context) -> Vec<Check> {
    let cfg = &ctx.config;
    let mut checks = vec![
        Check::ok(
            "config",
            format!(
                "dirs: config {}, data {}, cache {}",
                ctx.dirs.config.display(),
                ctx.dirs.data.display(),
                ctx.dirs.cache.display()
            ),
        ),
        doctor::user_namespaces(),
        doctor::docker_engine(&cfg.sandbox.docker_host),
        doctor::interpreter(
            "python3",
            &cfg.runtimes.python,
            "install Python 3.10+: apt-get install python3 python3-venv",
        ),
        doctor::interpreter(
            "node",
            &cfg.runtimes.node,
            "install Node.js 18+: apt-get install nodejs npm",
        ),
    ];
    checks.extend(database_checks(ctx).await);
    checks.push(doctor::process_sandbox(crate::sandbox::default_workspace_root(&ctx.dirs)).await);
    checks.push(doctor::docker_sandbox_image(&cfg.sandbox).await);
    checks.push(crate::provider::openai::check(&ctx.config.provider));
    checks.push(doctor::python_runtime(&ctx.dirs.cache, &cfg.runtimes));
    checks.push(crate::runtimes::node::doctor_check(
        crate::runtimes::Runtimes::new(&ctx.dirs.cache, &cfg.runtimes).root(),
        &cfg.runtimes.node,
    ));
    checks.push(crate::deploy::control::doctor_check(&ctx.dirs, &cfg.deploy.gateway_addr).await);
    checks
}

async fn database_checks(ctx: &Context) -> Vec<Check> {
    use crate::db::local_cluster::{LocalCluster, PgBinaries};
    let mut checks = Vec::new();
    if let Some(url) = ctx.config.database_url() {
        checks.push(Check::ok(
            "database",
            format!("shared server {}", crate::db::redact(url)),
        ));
    } else {
        match PgBinaries::find() {
            Ok(b) => checks.push(Check::ok(
                "postgres binaries",
                format!("{} ({})", b.dir.display(), b.version),
            )),
            Err(e) => {
                checks.push(Check::fail("postgres binaries", "not found", e.to_string()));
                return checks;
            }
        }
        let data = ctx.dirs.data.clone();
        let status = tokio::task::spawn_blocking(move || {
            LocalCluster::for_data_dir(&data).map(|c| c.status())
        })
        .await;
        match status {
            Ok(Ok(s)) if !s.running => {
                checks.push(Check::ok(
                    "database",
                    format!(
                        "embedded cluster {} ({}); starts on demand",
                        s.data_dir.display(),
                        if s.initialized {
                            "stopped"
                        } else {
                            "not created yet"
                        }
                    ),
                ));
                return checks;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                checks.push(Check::fail(
                    "database",
                    e.to_string(),
                    "see the message; or set DATABASE_URL",
                ));
                return checks;
            }
            Err(e) => {
                checks.push(Check::fail(
                    "database",
                    e.to_string(),
                    "report this as a bug",
                ));
                return checks;
            }
        }
    }
    match crate::db::Db::open(&ctx.config, &ctx.dirs).await {
        Ok(db) => {
            let applied: Result<i64, _> =
                sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                    .fetch_one(db.owner().unwrap_or(db.client()))
                    .await;
            let expected = crate::db::MIGRATOR
                .iter()
                .filter(|m| !m.migration_type.is_down_migration())
                .count();
            match applied {
                Ok(n) if usize::try_from(n).is_ok_and(|n| n >= expected) => {
                    checks.push(Check::ok(
                        "database",
                        format!("{} reachable, {n} migrations applied", db.location()),
                    ));
                }
                Ok(n) => checks.push(Check::fail(
                    "database",
                    format!(
                        "{} reachable but only {n} of {expected} migrations applied",
                        db.location()
                    ),
                    "run `apiforge serve` or any command with the owner URL to migrate",
                )),
                Err(_) if db.owner().is_err() => checks.push(Check::ok(
                    "database",
                    format!(
                        "{} reachable (client role; migrations are checked by the owner)",
                        db.location()
                    ),
                )),
                Err(e) => checks.push(Check::fail(
                    "database",
                    format!("cannot read migrations: {e}"),
                    "check the owner role",
                )),
            }
            db.close().await;
        }
        Err(e) => checks.push(Check::fail(
            "database",
            e.to_string(),
            "apiforge db status shows the embedded cluster; or check DATABASE_URL",
        )),
    }
    checks
}
