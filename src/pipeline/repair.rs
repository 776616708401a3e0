//! Test-failure repair rounds (openai provider only): when a design with model-written
//! handler bodies fails its sandboxed check, the failures (trimmed, see
//! [`TestFailures`]) go back to the model for at most `provider.openai.max_repairs`
//! rounds. Each round is two durable steps — `repair N` (the paid model call; its
//! design and token cost are stored, so a resumed job never pays for it again) and
//! `check N` (spec, code and the sandboxed check of that design) — and the decisions
//! between rounds are computed from those stored outputs, so a resumed job takes the
//! same path. The loop stops when a round passes, when a round's failure set equals an
//! earlier one (loop detection), when the job's repair budget is spent, when the
//! model gives no usable answer, or after `max_repairs` rounds. The step `repairs`
//! logs why (once) and the best attempt — fewest failures, earliest on a tie — is the
//! one recorded.

mod test_failures;

pub use test_failures::TestFailures;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PipelineEnv;
use super::check_step;
use crate::codegen::{Framework, GeneratedFiles};
use crate::design::{ActionBehavior, ApiDesign};
use crate::engine::{EventLevel, JobContext, RetryPolicy, StepError, StepScope};
use crate::provider::openai::{OpenAiError, OpenAiProvider};
use crate::provider::{DesignRequest, ProviderEvent, ProviderKind};
use crate::sandbox::Backend;
use crate::verify::Report;

/// What the code step of a pipeline made from a design: plain generated files, or
/// (iterate) files merged with hand edits.
pub trait Code: Serialize + DeserializeOwned + Clone + Send + Sync {
    fn files(&self) -> &GeneratedFiles;
}

impl Code for GeneratedFiles {
    fn files(&self) -> &GeneratedFiles {
        self
    }
}

/// One design built and checked: what a version can be recorded from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "C: Code")]
pub struct Attempt<C> {
    pub design: ApiDesign,
    pub spec: Value,
    pub code: C,
    pub report: Report,
}

/// What the job was asked for, as the repair rounds need it.
#[derive(Debug, Clone, Copy)]
pub struct RepairRequest<'a> {
    pub provider: ProviderKind,
    pub prompt: &'a str,
    /// The design a follow-up prompt applies to (iterate).
    pub base: Option<&'a ApiDesign>,
    pub framework: Framework,
    pub sandbox: Backend,
}

/// How the repair rounds went; part of the job's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairSummary {
    /// Rounds that ran (0: none).
    pub rounds: u32,
    /// The recorded attempt: 0 is the first design, N is round N's.
    pub best_round: u32,
    /// Failures of the recorded attempt.
    pub best_failures: usize,
    pub stop: RepairStop,
}

/// Why the repair rounds stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum RepairStop {
    /// The last round's design passed its tests.
    Passed,
    /// `max_repairs` rounds ran (or it is 0).
    MaxRepairs { max_repairs: u32 },
    /// Round `round` failed exactly like attempt `earlier` (loop detection).
    SameFailures { round: u32, earlier: u32 },
    /// The job's repair rounds used `used` of their `budget` tokens; another round
    /// would exceed it.
    TokenBudget { used: u64, budget: u64 },
    /// The model gave no usable design, or its design could not be built.
    ModelFailed { error: String },
}

impl RepairSummary {
    /// The job log's closing line about the rounds.
    pub fn describe(&self) -> String {
        let kept = match self.best_round {
            0 => "the first design".to_owned(),
            n => format!("round {n}'s design"),
        };
        let outcome = format!("{kept} is recorded with {} failure(s)", self.best_failures);
        match &self.stop {
            RepairStop::Passed => format!("repair round {} fixed the failing tests", self.rounds),
            RepairStop::MaxRepairs { max_repairs: 0 } => {
                format!("not repaired: provider.openai.max_repairs is 0; {outcome}")
            }
            RepairStop::MaxRepairs { max_repairs } => format!(
                "repair stopped after {max_repairs} round(s) (provider.openai.max_repairs); {outcome}"
            ),
            RepairStop::SameFailures { round, earlier } => format!(
                "repair stopped, loop detected: round {round} failed exactly like {}; {outcome}",
                match earlier {
                    0 => "the first design".to_owned(),
                    n => format!("round {n}"),
                }
            ),
            RepairStop::TokenBudget { used, budget } => format!(
                "repair stopped: the token budget is spent ({used} of {budget} tokens used by \
                 repair rounds; it is max_tokens × (max_repairs + 1) × 2); {outcome}"
            ),
            RepairStop::ModelFailed { error } => {
                format!("repair stopped: the model gave no usable fix: {error}; {outcome}")
            }
        }
    }
}

/// The attempt to record and, when rounds were considered, how they went.
#[derive(Debug)]
pub struct Repaired<C> {
    pub best: Attempt<C>,
    pub summary: Option<RepairSummary>,
}

/// What a `repair N` step produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
enum RoundDesign {
    Designed { design: ApiDesign, tokens: u64 },
    Stopped { stop: RepairStop },
}

/// What a `check N` step produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", bound = "C: Code")]
enum RoundCheck<C> {
    Checked { attempt: Box<Attempt<C>> },
    Unbuildable { error: String },
}

/// Runs the repair rounds after the first check. With the rules provider, a passing
/// first attempt, or a design without model-written handlers for `framework` (the
/// model has nothing of its own to fix), `first` is returned untouched and nothing is
/// logged. `build` makes the code for a design (the pipeline's code step, as a pure
/// function).
pub async fn run<C, B>(
    env: &PipelineEnv,
    ctx: &mut JobContext,
    request: &RepairRequest<'_>,
    first: Attempt<C>,
    build: B,
) -> Result<Repaired<C>, StepError>
where
    C: Code + 'static,
    B: Fn(&ApiDesign) -> Result<C, StepError> + Sync,
{
    if request.provider != ProviderKind::Openai
        || first.report.passed()
        || !has_handlers(&first.design, request.framework)
    {
        return Ok(Repaired {
            best: first,
            summary: None,
        });
    }
    let config = &env.config.provider.openai;
    let max = config.max_repairs;
    let budget = match OpenAiProvider::from_config(config) {
        Ok(provider) => provider.token_budget(),
        Err(e) => {
            let stop = RepairStop::ModelFailed {
                error: e.to_string(),
            };
            return finish(ctx, vec![first], stop).await;
        }
    };
    let mut failures = vec![TestFailures::from_report(&first.report)];
    let mut attempts = vec![first];
    let mut used: u64 = 0;
    let mut last_cost: u64 = 0;
    let stop = loop {
        let round = u32::try_from(attempts.len()).unwrap_or(u32::MAX);
        let (last, last_failures) = match (attempts.last(), failures.last()) {
            (Some(a), Some(f)) => (a, f),
            _ => return Err(StepError::fatal("repair rounds lost their first attempt")),
        };
        if last_failures.is_empty() {
            break RepairStop::Passed;
        }
        if round > max {
            break RepairStop::MaxRepairs { max_repairs: max };
        }
        // A round resends the design and the failures, so it costs about what the
        // round before it did.
        if used >= budget || used.saturating_add(last_cost) > budget {
            break RepairStop::TokenBudget { used, budget };
        }
        let designed: RoundDesign = ctx
            .step(&format!("repair {round}"), RetryPolicy::once(), |scope| {
                design_round(
                    env,
                    request,
                    Round { number: round, max },
                    last,
                    last_failures,
                    (used, budget),
                    scope,
                )
            })
            .await?;
        let (design, tokens) = match designed {
            RoundDesign::Designed { design, tokens } => (design, tokens),
            RoundDesign::Stopped { stop } => break stop,
        };
        used = used.saturating_add(tokens);
        last_cost = tokens;
        let before = last_failures.count();
        let checked: RoundCheck<C> = ctx
            .step(
                &format!("check {round}"),
                RetryPolicy::default().attempts(2),
                |scope| {
                    check_round(
                        env,
                        request,
                        Round { number: round, max },
                        design,
                        &build,
                        before,
                        scope,
                    )
                },
            )
            .await?;
        let attempt = match checked {
            RoundCheck::Checked { attempt } => *attempt,
            RoundCheck::Unbuildable { error } => break RepairStop::ModelFailed { error },
        };
        let now = TestFailures::from_report(&attempt.report);
        let signature = now.signature();
        let earlier = (!signature.is_empty())
            .then(|| failures.iter().position(|f| f.signature() == signature))
            .flatten();
        attempts.push(attempt);
        failures.push(now);
        if let Some(earlier) = earlier {
            break RepairStop::SameFailures {
                round,
                earlier: u32::try_from(earlier).unwrap_or(u32::MAX),
            };
        }
    };
    finish(ctx, attempts, stop).await
}

/// Picks the best attempt and logs (once: the step is memoised) why the rounds ended.
async fn finish<C: Code>(
    ctx: &mut JobContext,
    mut attempts: Vec<Attempt<C>>,
    stop: RepairStop,
) -> Result<Repaired<C>, StepError> {
    let counts: Vec<usize> = attempts
        .iter()
        .map(|a| TestFailures::from_report(&a.report).count())
        .collect();
    // `min_by_key` keeps the first of equal keys: ties go to the earliest attempt.
    let best = counts
        .iter()
        .enumerate()
        .min_by_key(|(_, count)| **count)
        .map_or(0, |(i, _)| i);
    let summary = RepairSummary {
        rounds: u32::try_from(attempts.len().saturating_sub(1)).unwrap_or(u32::MAX),
        best_round: u32::try_from(best).unwrap_or(u32::MAX),
        best_failures: counts.get(best).copied().unwrap_or_default(),
        stop,
    };
    let logged = summary.clone();
    let summary: RepairSummary = ctx
        .step("repairs", RetryPolicy::once(), move |scope| async move {
            let level = if logged.stop == RepairStop::Passed {
                EventLevel::Info
            } else {
                EventLevel::Warn
            };
            scope.log(level, &logged.describe()).await;
            Ok(logged)
        })
        .await?;
    let best = attempts.swap_remove(best);
    Ok(Repaired {
        best,
        summary: Some(summary),
    })
}

#[derive(Debug, Clone, Copy)]
struct Round {
    number: u32,
    max: u32,
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "repair round {}/{}", self.number, self.max)
    }
}

/// The `repair N` step: the model's fix for the last attempt. A model that cannot
/// give one ends the rounds (the job still records its best attempt) rather than
/// failing the job: transient failures were already retried by the provider.
async fn design_round<C: Code>(
    env: &PipelineEnv,
    request: &RepairRequest<'_>,
    round: Round,
    last: &Attempt<C>,
    failures: &TestFailures,
    (used, budget): (u64, u64),
    scope: StepScope,
) -> Result<RoundDesign, StepError> {
    let provider = match OpenAiProvider::from_config(&env.config.provider.openai) {
        Ok(p) => p.with_token_budget(budget.saturating_sub(used)),
        Err(e) => {
            return Ok(RoundDesign::Stopped {
                stop: RepairStop::ModelFailed {
                    error: e.to_string(),
                },
            });
        }
    };
    scope
        .log(
            EventLevel::Info,
            &format!(
                "{round}: {} failure(s) → asking {} for a fix",
                failures.count(),
                provider.model()
            ),
        )
        .await;
    let text = failures.render();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut on_event = move |e: ProviderEvent| {
        if let ProviderEvent::Progress { message } = e {
            let _ = tx.send(message);
        }
    };
    let validate = |d: &ApiDesign| crate::design::validate(d).map_err(|e| e.to_lines());
    let repairing = provider.repair(
        DesignRequest {
            prompt: request.prompt,
            base: request.base,
        },
        &last.design,
        &text,
        &validate,
        &mut on_event,
    );
    tokio::pin!(repairing);
    let result = loop {
        tokio::select! {
            r = &mut repairing => break r,
            Some(line) = rx.recv() => scope.log(EventLevel::Info, &line).await,
        }
    };
    while let Ok(line) = rx.try_recv() {
        scope.log(EventLevel::Info, &line).await;
    }
    let stop = match result {
        Ok(designed) => {
            return Ok(RoundDesign::Designed {
                design: designed.design,
                tokens: designed.tokens,
            });
        }
        Err(OpenAiError::TokenBudget { used: spent, .. }) => RepairStop::TokenBudget {
            used: used.saturating_add(spent),
            budget,
        },
        Err(e) => RepairStop::ModelFailed {
            error: e.to_string(),
        },
    };
    scope
        .log(
            EventLevel::Warn,
            &format!("{round}: no fix: {}", stop_text(&stop)),
        )
        .await;
    Ok(RoundDesign::Stopped { stop })
}

fn stop_text(stop: &RepairStop) -> String {
    match stop {
        RepairStop::TokenBudget { used, budget } => {
            format!("the token budget is spent ({used} of {budget})")
        }
        RepairStop::ModelFailed { error } => error.clone(),
        other => format!("{other:?}"),
    }
}

/// The `check N` step: spec, code and the sandboxed check of a round's design.
async fn check_round<C, B>(
    env: &PipelineEnv,
    request: &RepairRequest<'_>,
    round: Round,
    design: ApiDesign,
    build: &B,
    before: usize,
    scope: StepScope,
) -> Result<RoundCheck<C>, StepError>
where
    C: Code,
    B: Fn(&ApiDesign) -> Result<C, StepError> + Sync,
{
    let built = super::generate::build_spec(&design)
        .and_then(|spec| build(&design).map(|code| (spec, code)));
    let (spec, code) = match built {
        Ok(built) => built,
        Err(e) => {
            let error = format!("the repaired design cannot be built: {e}");
            scope
                .log(EventLevel::Warn, &format!("{round}: {error}"))
                .await;
            return Ok(RoundCheck::Unbuildable { error });
        }
    };
    let report = check_step::run(
        env,
        code.files(),
        request.framework,
        request.sandbox,
        scope.clone(),
    )
    .await?;
    let after = TestFailures::from_report(&report).count();
    let (level, outcome) = if after == 0 {
        (EventLevel::Info, "passing".to_owned())
    } else {
        (EventLevel::Warn, format!("{after} failure(s)"))
    };
    scope
        .log(level, &format!("{round}: {before} failure(s) → {outcome}"))
        .await;
    Ok(RoundCheck::Checked {
        attempt: Box::new(Attempt {
            design,
            spec,
            code,
            report,
        }),
    })
}

/// Whether `design` has handler bodies for `framework` (the code a model writes).
fn has_handlers(design: &ApiDesign, framework: Framework) -> bool {
    design.actions.iter().any(|a| match &a.behavior {
        ActionBehavior::Custom { fastapi, express } => match framework {
            Framework::Fastapi => fastapi.is_some(),
            Framework::Express => express.as_ref().is_some_and(|b| !b.trim().is_empty()),
        },
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_say_why_the_rounds_stopped() {
        let summary = |stop| RepairSummary {
            rounds: 2,
            best_round: 0,
            best_failures: 1,
            stop,
        };
        let text = summary(RepairStop::SameFailures {
            round: 2,
            earlier: 1,
        })
        .describe();
        assert!(
            text.contains("loop detected: round 2 failed exactly like round 1"),
            "{text}"
        );
        assert!(
            text.contains("the first design is recorded with 1 failure(s)"),
            "{text}"
        );
        let text = summary(RepairStop::TokenBudget {
            used: 30_000,
            budget: 24_000,
        })
        .describe();
        assert!(text.contains("30000 of 24000 tokens"), "{text}");
        let text = summary(RepairStop::MaxRepairs { max_repairs: 0 }).describe();
        assert!(
            text.starts_with("not repaired: provider.openai.max_repairs is 0"),
            "{text}"
        );
        let json = serde_json::to_value(summary(RepairStop::Passed)).unwrap_or_default();
        assert_eq!(json["stop"]["reason"], "passed", "{json}");
    }
}
