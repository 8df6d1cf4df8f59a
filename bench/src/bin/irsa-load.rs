//! `irsa-load`: the load generator and timers scripts/bench.sh runs against irsa-emulator and moto alike.
//! Every subcommand prints one JSON object on stdout.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use irsa_bench::workloads::{self, CreateRoles, GetRole, IamMix, WebIdentity};
use irsa_bench::{run_count, run_for, startup, LoadOptions, Signer, Target, Workload};
use serde_json::json;

#[derive(Parser)]
#[command(
    version,
    about = "Load and start-up measurements against an AWS Query endpoint (plain HTTP)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Endpoint {
    /// The server, e.g. http://127.0.0.1:5000 or https://127.0.0.1:8443
    #[arg(long)]
    url: String,
    /// CA to trust for an https URL (the emulator's ca.pem)
    #[arg(long)]
    ca_file: Option<PathBuf>,
}

impl Endpoint {
    fn target(&self) -> anyhow::Result<Target> {
        let ca = match &self.ca_file {
            Some(path) => Some(
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            ),
            None => None,
        };
        Target::new(&self.url, ca.as_deref())
    }
}

#[derive(Args, Clone)]
struct Load {
    #[command(flatten)]
    endpoint: Endpoint,
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Seconds measured, after the warm-up
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of load before measuring starts
    #[arg(long, default_value_t = 2)]
    warmup: u64,
    /// The server's process id, to sample its RSS during the run
    #[arg(long)]
    pid: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// AssumeRoleWithWebIdentity with one valid token (unsigned, as pods send it)
    Sts {
        #[command(flatten)]
        load: Load,
        #[arg(long)]
        role_arn: String,
        /// File holding the web identity token
        #[arg(long)]
        token_file: PathBuf,
    },
    /// CreateRole / GetRole / AttachRolePolicy rounds on new roles (SigV4 from AWS_* env, default: emulator admin)
    IamMix {
        #[command(flatten)]
        load: Load,
        #[arg(long, default_value = "mix")]
        prefix: String,
        #[arg(long, default_value = "111122223333")]
        account: String,
        #[arg(long, default_value = "arn:aws:iam::aws:policy/ReadOnlyAccess")]
        policy_arn: String,
    },
    /// GetRole of one role, over and over
    GetRole {
        #[command(flatten)]
        load: Load,
        #[arg(long)]
        role_name: String,
    },
    /// Create COUNT roles as fast as the connections allow
    CreateRoles {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 16)]
        connections: usize,
        #[arg(long, default_value = "scale")]
        prefix: String,
        #[arg(long, default_value = "111122223333")]
        account: String,
    },
    /// Page through every role (MaxItems 1000), RUNS times; reports the median
    ListRoles {
        #[command(flatten)]
        endpoint: Endpoint,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Start the command RUNS times and time its first 200 on PATH ({port}, {dir} are filled in)
    Startup {
        #[arg(long, default_value_t = 7)]
        runs: usize,
        #[arg(long, default_value = "/healthz")]
        path: String,
        #[arg(trailing_var_arg = true, required = true)]
        command: Vec<String>,
    },
}

impl Load {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            connections: self.connections,
            warmup: Duration::from_secs(self.warmup),
            server_pid: self.pid,
        }
    }

    async fn run(&self, workload: Arc<dyn Workload>) -> anyhow::Result<serde_json::Value> {
        let target = self.endpoint.target()?;
        let report = run_for(
            &target,
            workload,
            &self.options(),
            Duration::from_secs(self.duration),
        )
        .await;
        Ok(serde_json::to_value(report)?)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let output = match cli.command {
        Command::Sts {
            load,
            role_arn,
            token_file,
        } => {
            let token = std::fs::read_to_string(&token_file)
                .with_context(|| format!("cannot read {}", token_file.display()))?;
            let token = token.trim().to_string();
            load.run(Arc::new(WebIdentity { role_arn, token })).await?
        }
        Command::IamMix {
            load,
            prefix,
            account,
            policy_arn,
        } => {
            let workload = IamMix {
                signer: Signer::from_env(),
                prefix,
                trust_policy: workloads::trust_policy(&account),
                policy_arn,
            };
            load.run(Arc::new(workload)).await?
        }
        Command::GetRole { load, role_name } => {
            let workload = GetRole {
                signer: Signer::from_env(),
                role_name,
            };
            load.run(Arc::new(workload)).await?
        }
        Command::CreateRoles {
            endpoint,
            count,
            connections,
            prefix,
            account,
        } => {
            let workload = CreateRoles {
                signer: Signer::from_env(),
                prefix,
                trust_policy: workloads::trust_policy(&account),
            };
            let options = LoadOptions {
                connections,
                warmup: Duration::ZERO,
                server_pid: None,
            };
            let report = run_count(&endpoint.target()?, Arc::new(workload), &options, count).await;
            serde_json::to_value(report)?
        }
        Command::ListRoles { endpoint, runs } => {
            let target = endpoint.target()?;
            let signer = Signer::from_env();
            let mut times = Vec::new();
            let mut count = 0;
            for _ in 0..runs.max(1) {
                let (n, took) = workloads::list_all_roles(&target, &signer).await?;
                count = n;
                times.push(took.as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            json!({ "roles": count, "median_ms": times[times.len() / 2], "runs_ms": times })
        }
        Command::Startup {
            runs,
            path,
            command,
        } => {
            let (median, all) =
                tokio::task::spawn_blocking(move || startup::median(&command, &path, runs))
                    .await??;
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            json!({ "median_ms": ms(median), "runs_ms": all.into_iter().map(ms).collect::<Vec<_>>() })
        }
    };
    println!("{output}");
    Ok(())
}
