//! Submitting a pipeline job and following it: one progress line per step with its
//! timing, an in-process worker when nothing else serves the database.

use crate::cli::stdout::outln;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::context::{Context, Failure, Session, client_tx, db_failure, print_json};
use crate::design::Review;
use crate::design::review::{ShownWarning, tree};
use crate::engine::queue;
use crate::engine::{EventSubscription, JobId};
use crate::pipeline::design_review::DesignReviewed;
use crate::pipeline::{PipelineEnv, PipelineOutput};

pub use crate::pipeline::launch::WORKER_APPLICATION;

/// Submits a job for the signed-in user (see [`crate::pipeline::launch::submit`],
/// which front ends outside the CLI should call directly).
pub async fn submit(
    session: &Session,
    request: &crate::engine::JobRequest,
) -> Result<crate::engine::queue::Submitted, Failure> {
    crate::pipeline::launch::submit(session, request)
        .await
        .map_err(|e| Failure::failed(e.to_string()))
}

#[derive(Serialize)]
struct Finished<'a> {
    job: JobId,
    state: &'a str,
    error: Option<&'a str>,
    output: Option<PipelineOutput>,
    /// The design step's review (new, iterate).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<ShownWarning<'a>>,
}

/// Follows `job` until it ends, printing its steps (or JSON at the end). Runs an
/// in-process worker unless one is already serving the database. The exit code is 0
/// only when the job succeeded and its checks passed.
pub async fn follow(
    ctx: &Context,
    session: &Session,
    job: JobId,
    json: bool,
) -> Result<ExitCode, Failure> {
    let stop = CancellationToken::new();
    let worker = local_worker(ctx, session, stop.clone()).await?;
    let mut feed = EventSubscription::start(&session.db, &session.token, 0, Some(job))
        .await
        .map_err(db_failure)?;
    let spinner = (!json).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let mut review = Review::default();
    let mut step_started: std::collections::HashMap<String, chrono::DateTime<chrono::Utc>> =
        Default::default();
    while let Some(event) = feed.events.recv().await {
        let e = match event {
            Ok(e) => e,
            Err(message) => {
                if let Some(bar) = &spinner {
                    say(bar, format!("(event feed: {message})"));
                }
                continue;
            }
        };
        let step = e.step.clone().unwrap_or_default();
        let reviewed = DesignReviewed::from_event(&e);
        if let Some(bar) = &spinner {
            match e.kind.as_str() {
                "step_started" => {
                    step_started.insert(step.clone(), e.at);
                    bar.set_message(format!("{step}…"));
                }
                "step_finished" => {
                    let ms = step_started
                        .get(&step)
                        .map(|s| (e.at - *s).num_milliseconds())
                        .unwrap_or(0);
                    let mark =
                        if e.data.as_ref().and_then(|d| d["state"].as_str()) == Some("succeeded") {
                            "✓"
                        } else {
                            "✗"
                        };
                    let detail = if mark == "✗" {
                        format!("  {}", e.message)
                    } else {
                        String::new()
                    };
                    say(bar, format!("{mark} {step:<8} {ms:>6} ms{detail}"));
                }
                "log" if reviewed.is_some() => {
                    say(bar, format!("  {step}: {}", e.message));
                    if let Some(r) = &reviewed {
                        for line in tree::lines(&r.design, &r.review) {
                            say(bar, format!("    {}", line.text()));
                        }
                    }
                }
                "log" if !e.message.is_empty() => {
                    let prefix = if step.is_empty() {
                        String::new()
                    } else {
                        format!("{step}: ")
                    };
                    say(bar, format!("  {prefix}{}", e.message));
                }
                _ => {}
            }
        }
        if let Some(r) = reviewed {
            review = r.review;
        }
        if e.kind == "job_finished" {
            break;
        }
    }
    if let Some(bar) = &spinner {
        bar.finish_and_clear();
    }
    stop.cancel();
    if let Some(handle) = worker {
        let _ = handle.await;
    }
    let mut tx = client_tx(session).await?;
    let record = queue::get(&mut tx, job)
        .await
        .map_err(|e| Failure::failed(e.to_string()))?
        .ok_or_else(|| Failure::failed(format!("job {job} disappeared")))?;
    tx.commit()
        .await
        .map_err(|e| Failure::failed(e.to_string()))?;
    let output: Option<PipelineOutput> = record
        .output
        .clone()
        .and_then(|o| serde_json::from_value(o).ok());
    let passing = output.as_ref().is_some_and(|o| o.check_status == "passing");
    if json {
        print_json(&Finished {
            job,
            state: &record.state,
            error: record.error.as_deref(),
            output,
            warnings: review.shown(),
        })?;
    } else if let Some(o) = &output {
        if !o.conflicts.is_empty() {
            outln!(
                "conflicts (hand edits vs regenerated code, marked in the files): {}",
                o.conflicts.join(", ")
            );
        }
        let t = &o.totals;
        outln!(
            "v{} {} · tests {}/{} · contract {}/{} · job {job}",
            o.version,
            o.check_status,
            t.native_passed,
            t.native_passed + t.native_failed,
            t.contract_passed,
            t.contract_passed + t.contract_failed
        );
    } else {
        outln!(
            "job {job} {}: {}",
            record.state,
            record.error.as_deref().unwrap_or("")
        );
    }
    Ok(if record.state == "succeeded" && passing {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A progress line: above the spinner on a terminal, plainly otherwise (the spinner
/// is hidden when stdout is not a terminal, and so would be its lines).
fn say(bar: &ProgressBar, line: impl AsRef<str>) {
    if bar.is_hidden() {
        outln!("{}", line.as_ref());
    } else {
        bar.println(line);
    }
}

/// Starts a worker inside this process when no other worker serves the database.
async fn local_worker(
    ctx: &Context,
    session: &Session,
    stop: CancellationToken,
) -> Result<Option<tokio::task::JoinHandle<()>>, Failure> {
    let env = Arc::new(PipelineEnv {
        config: ctx.config.clone(),
        dirs: ctx.dirs.clone(),
    });
    crate::pipeline::launch::local_worker(session, env, stop)
        .await
        .map_err(|e| Failure::failed(e.to_string()))
}
