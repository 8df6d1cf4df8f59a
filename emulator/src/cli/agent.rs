//! `irsa-emulator agent`: the EKS Pod Identity agent (see `irsa_emulator::agent`), and `agent init`, its init
//! container's node setup. Flags are upstream's (`eks-pod-identity-agent server`); the node's credentials,
//! region, endpoint and CA come from the standard AWS environment variables.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use irsa_emulator::agent::{self, AgentConfig, NodeCredentials};
use irsa_names::{AGENT_IPV4_ADDRESS, AGENT_IPV6_ADDRESS, AGENT_PORT};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentArgs {
    #[command(subcommand)]
    command: Option<AgentCommand>,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Subcommand)]
enum AgentCommand {
    /// Put the agent's link-local addresses on the node (interface pod-id-link0), as its init container does.
    Init(InitArgs),
}

#[derive(Args)]
struct InitArgs {
    /// The addresses to add [default: 169.254.170.23 and fd00:ec2::23].
    #[arg(long = "address")]
    addresses: Vec<IpAddr>,
}

#[derive(Args)]
struct ServerArgs {
    /// The EKS cluster this node belongs to (the one eks-auth is asked about).
    #[arg(long, short = 'c')]
    cluster_name: Option<String>,
    /// Addresses to serve on (repeatable) [default: 169.254.170.23 and fd00:ec2::23].
    #[arg(long = "bind-hosts", short = 'b')]
    bind_hosts: Vec<IpAddr>,
    #[arg(long, short = 'p', default_value_t = AGENT_PORT)]
    port: u16,
    /// Liveness and readiness (/healthz, /readyz) on localhost; 0 turns them off.
    #[arg(long, default_value_t = agent::DEFAULT_PROBE_PORT)]
    probe_port: u16,
    /// eks-auth's URL, the emulator's [env: AWS_ENDPOINT_URL_EKS_AUTH, else AWS_ENDPOINT_URL].
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long, env = "AWS_REGION", default_value = irsa_emulator::config::DEFAULT_REGION)]
    region: String,
    /// PEM file of the CA the endpoint's certificate chains to.
    #[arg(long, env = "AWS_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
}

fn default_addresses() -> Vec<IpAddr> {
    [AGENT_IPV4_ADDRESS, AGENT_IPV6_ADDRESS]
        .iter()
        .map(|a| a.parse().expect("a literal address"))
        .collect()
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    match args.command {
        Some(AgentCommand::Init(init)) => {
            let addresses = if init.addresses.is_empty() {
                default_addresses()
            } else {
                init.addresses
            };
            let done = agent::link::setup(&addresses)?;
            for address in &done.addresses {
                eprintln!("agent init: {address} on {}", done.interface);
            }
            for (address, why) in &done.skipped {
                eprintln!("agent init: {address} not added: {why}");
            }
            Ok(())
        }
        None => server(args.server).await,
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

async fn server(args: ServerArgs) -> anyhow::Result<()> {
    let Some(cluster_name) = args.cluster_name.filter(|c| !c.is_empty()) else {
        bail!("--cluster-name is required: the EKS cluster this node belongs to");
    };
    let endpoint = args
        .endpoint
        .or_else(|| env("AWS_ENDPOINT_URL_EKS_AUTH"))
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .context(
            "no eks-auth endpoint: pass --endpoint https://EMULATOR:PORT (or set AWS_ENDPOINT_URL)",
        )?;
    let (Some(access_key_id), Some(secret_access_key)) =
        (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
    else {
        bail!(
            "no node credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key the emulator knows \
             (its admin key, or one allowed eks-auth:AssumeRoleForPodIdentity)"
        );
    };
    let ca_pem = match &args.ca_bundle {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the CA bundle {} (AWS_CA_BUNDLE)",
                path.display()
            )
        })?),
        None => None,
    };
    let hosts = if args.bind_hosts.is_empty() {
        default_addresses()
    } else {
        args.bind_hosts
    };
    let running = agent::start(AgentConfig {
        cluster_name,
        bind: hosts
            .iter()
            .map(|ip| SocketAddr::new(*ip, args.port))
            .collect(),
        probe: (args.probe_port != 0).then(|| SocketAddr::from(([127, 0, 0, 1], args.probe_port))),
        endpoint,
        region: args.region,
        credentials: NodeCredentials {
            access_key_id,
            secret_access_key,
            session_token: env("AWS_SESSION_TOKEN"),
        },
        ca_pem,
    })
    .await?;
    for addr in running.addrs() {
        eprintln!("irsa-emulator agent: credentials at http://{addr}/v1/credentials");
    }
    tokio::select! {
        result = running.wait() => result,
        _ = tokio::signal::ctrl_c() => { eprintln!("irsa-emulator agent: stopping"); Ok(()) }
    }
}
