//! Command-line interface. Each subcommand is a small function over the library.

mod agent;
mod cluster;
mod lab;
mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use irsa_emulator::config::{self, Config};
use irsa_emulator::AdminCredentials;

#[derive(Parser)]
#[command(
    name = "irsa-emulator",
    version,
    about = "Offline AWS for IRSA: OIDC issuer, IAM, STS and EKS DescribeCluster on one HTTPS port",
    after_help = "Quick start:\n  irsa-emulator serve &\n  eval \"$(irsa-emulator env)\"\n  irsa-emulator cluster create demo\n  aws eks describe-cluster --name demo --query cluster.identity.oidc.issuer --output text"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the emulator (HTTPS on 127.0.0.1:8443 by default).
    Serve(ServeArgs),
    /// Print `export` lines that point AWS CLIs and SDKs at the emulator: eval "$(irsa-emulator env)".
    Env(EnvArgs),
    /// Create, list and delete emulated EKS clusters (each with its own OIDC issuer and signing key).
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Mint the service-account token a cluster's API server would issue (for labs without a cluster).
    Token(lab::TokenArgs),
    /// Show STS decisions and denied calls with their reasons (-f to follow).
    Audit(lab::AuditArgs),
    /// Start over: delete every role, customer managed policy and OIDC provider (--clusters: clusters too).
    ///
    /// The server keeps running with its CA, so clients need no new settings: a clean slate between tests or
    /// lab exercises. Credentials issued before the reset get nothing afterwards, even from a role re-created
    /// under the same name.
    Reset(lab::ResetArgs),
    /// Register (or remove) the emulator as the cluster's pod identity webhook.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Run the EKS Pod Identity agent (a node's /v1/credentials, backed by the emulator's eks-auth); `agent
    /// init` adds its link-local address to the node.
    Agent(agent::AgentArgs),
}

#[derive(Args, Clone)]
pub struct DataDirArg {
    /// Where state, the CA and keys live [default: the user's data dir, e.g. ~/.local/share/irsa-emulator].
    #[arg(long, env = "IRSA_EMULATOR_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDirArg {
    pub fn resolve(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }
}

fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("irsa-emulator")
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on; repeat it to serve several (the first is the one URLs derive from), e.g. loopback
    /// and the one address a kind node reaches rather than 0.0.0.0. Binding beyond loopback exposes the admin
    /// credentials' power to whoever reaches that address.
    #[arg(long, default_value = config::DEFAULT_LISTEN)]
    listen: Vec<SocketAddr>,
    #[command(flatten)]
    data_dir: DataDirArg,
    /// Keep everything in memory: nothing is written, everything is gone at exit.
    #[arg(long, conflicts_with = "data_dir")]
    ephemeral: bool,
    /// Serve plain HTTP instead of HTTPS (SDKs then need no CA bundle; pods' SDKs may refuse it).
    #[arg(long)]
    http: bool,
    /// The AWS account the emulator pretends to be.
    #[arg(long, default_value = config::DEFAULT_ACCOUNT_ID, value_parser = parse_account_id)]
    account_id: String,
    /// The region served: STS and EKS are signed for it, and its partition prefixes every ARN (cn-… is AWS
    /// China, arn:aws-cn:; us-gov-… is GovCloud, arn:aws-us-gov:). IAM is signed for the partition's IAM region.
    #[arg(long, default_value = config::DEFAULT_REGION, value_parser = parse_region)]
    region: String,
    /// Extra DNS name or IP the certificate must be valid for (repeatable), e.g. the host a kind node uses.
    #[arg(long = "hostname")]
    hostnames: Vec<String>,
    /// Base URL issuers are minted under, when clients reach the emulator by another address than --listen.
    #[arg(long)]
    public_url: Option<String>,
    /// Cluster whose ServiceAccounts the pod identity webhook (POST /mutate) reads; it also publishes the CA
    /// as ConfigMap irsa-emulator-ca in every namespace. Without it, /mutate admits pods unchanged.
    #[arg(long, env = "IRSA_EMULATOR_KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    #[arg(long, env = "IRSA_ADMIN_ACCESS_KEY_ID", default_value = config::DEFAULT_ADMIN_ACCESS_KEY_ID)]
    admin_access_key_id: String,
    #[arg(long, env = "IRSA_ADMIN_SECRET_ACCESS_KEY", default_value = config::DEFAULT_ADMIN_SECRET_ACCESS_KEY, hide_default_value = true)]
    admin_secret_access_key: String,
}

fn parse_account_id(value: &str) -> Result<String, String> {
    if value.len() == 12 && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(value.to_string())
    } else {
        Err("an AWS account id is 12 digits, e.g. 111122223333".into())
    }
}

/// A region name as AWS spells them (`us-east-1`, `cn-northwest-1`, `us-gov-west-1`), in a partition the
/// emulator serves: a typo would otherwise surface later as every request's signature being refused.
fn parse_region(value: &str) -> Result<String, String> {
    let shaped = regex::Regex::new("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$").expect("valid pattern");
    if !shaped.is_match(value) {
        return Err(
            "a region is an AWS region name such as us-east-1, eu-west-2, cn-north-1 or us-gov-west-1".into(),
        );
    }
    match irsa_emulator::partition::Partition::served(value) {
        Ok(_) => Ok(value.to_string()),
        Err(partition) => Err(format!(
            "{value} is in partition {partition}, which the emulator does not serve: use a region of aws, \
             aws-cn (cn-north-1) or aws-us-gov (us-gov-west-1)"
        )),
    }
}

#[derive(Args)]
struct EnvArgs {
    /// The emulator's URL as clients reach it.
    #[arg(long, default_value = "https://127.0.0.1:8443")]
    endpoint_url: String,
    #[command(flatten)]
    data_dir: DataDirArg,
    #[arg(long, default_value = config::DEFAULT_REGION)]
    region: String,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Env(args) => {
            print!("{}", env_lines(&args));
            Ok(())
        }
        Command::Cluster(command) => cluster::run(command).await,
        Command::Token(args) => lab::token(args).await,
        Command::Audit(args) => lab::audit(args).await,
        Command::Reset(args) => lab::reset(args).await,
        Command::Webhook(command) => webhook::run(command).await,
        Command::Agent(args) => agent::run(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    for listen in args.listen.iter().filter(|a| !a.ip().is_loopback()) {
        tracing::warn!(
            %listen,
            "listening beyond loopback: anyone who can reach this address and knows the admin credentials controls the emulator"
        );
    }
    let (listen, also_listen) = args
        .listen
        .split_first()
        .map(|(first, rest)| (*first, rest.to_vec()))
        .expect("clap gives --listen its default");
    let data_dir = (!args.ephemeral).then(|| args.data_dir.resolve());
    let config = Config {
        listen,
        also_listen,
        data_dir: data_dir.clone(),
        tls: !args.http,
        account_id: args.account_id,
        region: args.region,
        hostnames: args.hostnames,
        admin: AdminCredentials {
            access_key_id: args.admin_access_key_id,
            secret_access_key: args.admin_secret_access_key,
        },
        public_url: args.public_url,
        kubeconfig: args.kubeconfig,
        request_read_timeout: irsa_emulator::config::DEFAULT_REQUEST_READ_TIMEOUT,
        idle_timeout: irsa_emulator::config::DEFAULT_IDLE_TIMEOUT,
    };
    let emulator = irsa_emulator::start(config).await?;
    eprintln!("irsa-emulator listening on {}", emulator.url());
    match (&data_dir, emulator.ca_path()) {
        (Some(dir), Some(ca)) => eprintln!(
            "state in {}; CA for clients: {}",
            dir.display(),
            ca.display()
        ),
        (Some(dir), None) => eprintln!("state in {}", dir.display()),
        (None, _) => eprintln!("ephemeral: state is in memory only"),
    }
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! {
        result = emulator.wait() => result.context("server stopped"),
        _ = stop => { eprintln!("irsa-emulator: stopping"); Ok(()) }
    }
}

fn env_lines(args: &EnvArgs) -> String {
    let ca = irsa_emulator::tls::ca_path(&args.data_dir.resolve());
    let mut out = format!("export AWS_ENDPOINT_URL={}\n", args.endpoint_url);
    if args.endpoint_url.starts_with("https://") {
        out += &format!("export AWS_CA_BUNDLE={}\n", ca.display());
    }
    out += &format!(
        "export AWS_REGION={r}\nexport AWS_DEFAULT_REGION={r}\nexport AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nunset AWS_SESSION_TOKEN AWS_PROFILE\n",
        config::DEFAULT_ADMIN_ACCESS_KEY_ID,
        config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
        r = args.region,
    );
    out
}
