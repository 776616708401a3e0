//! `apiforge doctor [--json]`.

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
            println!("{tag} {:<18} {}", c.name, c.detail);
            if !c.fix.is_empty() {
                println!("     {:<18} fix: {}", "", c.fix);
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
    checks.push(doctor::python_runtime(&ctx.dirs.cache, &cfg.runtimes));
    checks.push(llm_check(ctx));
    checks
}

fn llm_check(ctx: &Context) -> Check {
    const NAME: &str = "llm provider";
    let openai = &ctx.config.provider.openai;
    let has_key = std::env::var_os(&openai.api_key_env).is_some_and(|v| !v.is_empty());
    let local = openai.base_url.contains("127.0.0.1") || openai.base_url.contains("localhost");
    if ctx.config.provider.default == "openai" && !has_key && !local {
        Check::fail(
            NAME,
            format!(
                "provider \"openai\" is the default but ${} is not set",
                openai.api_key_env
            ),
            format!(
                "export {}=…, or set provider.default = \"rules\"",
                openai.api_key_env
            ),
        )
    } else if has_key || local {
        Check::ok(
            NAME,
            format!("openai-compatible: {} ({})", openai.base_url, openai.model),
        )
    } else {
        Check::warn(
            NAME,
            "no LLM configured; the built-in rules provider is used",
            format!(
                "optional: export {} and use --provider openai",
                openai.api_key_env
            ),
        )
    }
}
