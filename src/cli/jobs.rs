//! `apiforge jobs`, `apiforge job JOB`, `apiforge cancel JOB`: the caller's jobs, through
//! the client role.

use crate::cli::stdout::outln;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::context::{Context, Failure, client_tx, print_json};
use crate::engine::events::{self, JobEvent};
use crate::engine::queue::{self, CancelOutcome};
use crate::engine::{JobId, JobRecord, StepRecord};

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Include finished jobs (default: queued and running only).
    #[arg(long)]
    pub all: bool,
    /// At most this many jobs, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job's number (from `apiforge jobs`).
    pub job: JobId,
    #[arg(long)]
    pub json: bool,
}

pub async fn list(ctx: &Context, args: JobsArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let mut tx = client_tx(&session).await?;
    let jobs = queue::list(&mut tx, args.all, args.limit.clamp(1, 10_000))
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    if args.json {
        print_json(&jobs)?;
    } else if jobs.is_empty() {
        outln!(
            "{}",
            if args.all {
                "no jobs yet"
            } else {
                "no queued or running jobs (--all shows finished ones)"
            }
        );
    } else {
        outln!(
            "{:>6}  {:<10} {:<10} {:>8}  {:<19}  error",
            "job",
            "kind",
            "state",
            "duration",
            "created"
        );
        for j in &jobs {
            outln!(
                "{:>6}  {:<10} {:<10} {:>8}  {:<19}  {}",
                j.id,
                j.kind,
                j.state,
                duration(j),
                j.created_at.format("%Y-%m-%d %H:%M:%S"),
                j.error.as_deref().unwrap_or("")
            );
        }
    }
    session.db.close().await;
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct JobDetail {
    job: JobRecord,
    steps: Vec<StepRecord>,
    events: Vec<JobEvent>,
}

pub async fn show(ctx: &Context, args: JobArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let mut tx = client_tx(&session).await?;
    let sql = |e: sqlx::Error| Failure::failed(e.to_string());
    let Some(job) = queue::get(&mut tx, args.job).await.map_err(sql)? else {
        return Err(Failure::usage(format!("no job {} of yours", args.job)));
    };
    let steps = queue::steps(&mut tx, args.job).await.map_err(sql)?;
    let events = events::since(&mut tx, 0, Some(args.job))
        .await
        .map_err(sql)?;
    tx.commit().await.map_err(sql)?;
    if args.json {
        print_json(&JobDetail { job, steps, events })?;
    } else {
        outln!(
            "job {} · {} · {} · {}",
            job.id,
            job.kind,
            job.state,
            duration(&job)
        );
        if let Some(e) = &job.error {
            outln!("error: {e}");
        }
        for s in &steps {
            let ms = s.finished_at.map(|f| (f - s.started_at).num_milliseconds());
            outln!(
                "  {:<2} {:<14} {:<10} attempts {}  {}",
                s.seq,
                s.name,
                s.state,
                s.attempts,
                ms.map(|m| format!("{m} ms")).unwrap_or_default()
            );
        }
        for e in &events {
            let step = e
                .step
                .as_deref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default();
            outln!(
                "  {} {:<5} {:<13} {step}{}",
                e.at.format("%H:%M:%S%.3f"),
                e.level,
                e.kind,
                e.message
            );
        }
    }
    session.db.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn cancel(ctx: &Context, args: JobArgs) -> Result<ExitCode, Failure> {
    let session = ctx.session().await?;
    let mut tx = client_tx(&session).await?;
    let outcome = queue::cancel(&mut tx, args.job)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    session.db.close().await;
    if args.json {
        print_json(&serde_json::json!({ "job": args.job, "outcome": outcome }))?;
    } else {
        match outcome {
            CancelOutcome::Cancelled => outln!("job {} cancelled", args.job),
            CancelOutcome::Requested => outln!(
                "job {} is stopping (its running step is being killed)",
                args.job
            ),
            CancelOutcome::AlreadyFinished => outln!("job {} had already finished", args.job),
            CancelOutcome::NotFound => {}
        }
    }
    match outcome {
        CancelOutcome::NotFound => Err(Failure::usage(format!("no job {} of yours", args.job))),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn duration(j: &JobRecord) -> String {
    match (j.started_at, j.finished_at) {
        (Some(s), Some(f)) => format!("{:.1}s", (f - s).num_milliseconds() as f64 / 1000.0),
        (Some(s), None) => format!("{:.0}s…", (chrono::Utc::now() - s).num_seconds()),
        _ => "-".to_owned(),
    }
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The period: 90m, 24h, 7d, 2w.
    #[arg(long, default_value = "7d")]
    pub since: String,
    #[arg(long)]
    pub json: bool,
}

/// `apiforge stats`: counts, success rates and p50/p95 durations.
pub async fn stats(ctx: &Context, args: StatsArgs) -> Result<ExitCode, Failure> {
    let hours = crate::engine::stats::parse_period(&args.since).ok_or_else(|| {
        Failure::usage(format!(
            "--since {:?}: use a number with m, h, d or w (e.g. 7d)",
            args.since
        ))
    })?;
    let session = ctx.session().await?;
    let mut tx = client_tx(&session).await?;
    let stats = crate::engine::stats::collect(&mut tx, hours)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    if args.json {
        print_json(&stats)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (title, groups) in [
        ("pipeline", &stats.pipelines),
        ("framework", &stats.frameworks),
        ("step", &stats.steps),
    ] {
        outln!(
            "{title:<12} {:>6} {:>8} {:>9} {:>9}",
            "runs",
            "success",
            "p50",
            "p95"
        );
        for g in groups.iter() {
            let secs = |v: Option<f64>| {
                v.map(|s| format!("{:.2}s", s))
                    .unwrap_or_else(|| "-".into())
            };
            outln!(
                "{:<12} {:>6} {:>7.0}% {:>9} {:>9}",
                g.name,
                g.total,
                g.success_rate() * 100.0,
                secs(g.p50),
                secs(g.p95)
            );
        }
        if groups.is_empty() {
            outln!("(no finished jobs in the last {})", args.since);
        }
        outln!();
    }
    Ok(ExitCode::SUCCESS)
}
