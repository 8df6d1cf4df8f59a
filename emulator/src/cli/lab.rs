//! `irsa-emulator token`, `audit` and `reset`: what a lab needs without a cluster — a service-account token to
//! try, the emulator's reasons for every STS decision, and a clean slate between exercises.

use std::time::Duration;

use clap::Args;

use super::cluster::Connection;

#[derive(Args)]
pub struct TokenArgs {
    /// Cluster whose signing key mints the token (as its kube-apiserver would).
    #[arg(long)]
    cluster: String,
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,
    #[arg(long)]
    service_account: String,
    /// Audience (repeatable); IRSA uses sts.amazonaws.com.
    #[arg(long = "audience", default_value = "sts.amazonaws.com")]
    audiences: Vec<String>,
    /// Lifetime in seconds (at least 600, as kube-apiserver requires).
    #[arg(long, default_value_t = 3600)]
    expiration: i64,
    /// Bind the token to a pod of this name, as the kubelet's projected tokens are (EKS Pod Identity needs
    /// it; use --audience pods.eks.amazonaws.com).
    #[arg(long)]
    pod: Option<String>,
    /// The bound pod's uid [default: a new one].
    #[arg(long, requires = "pod")]
    pod_uid: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Keep printing new events as they happen (Ctrl-C to stop).
    #[arg(long, short = 'f')]
    follow: bool,
    /// Print raw JSON lines instead of the readable form.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args)]
pub struct ResetArgs {
    /// Delete the clusters too (their issuers and signing keys). Without it they stay, because API servers
    /// configured with their keys keep running.
    #[arg(long)]
    clusters: bool,
    #[command(flatten)]
    connection: Connection,
}

pub async fn reset(args: ResetArgs) -> anyhow::Result<()> {
    let connection = &args.connection;
    let mut url = connection.url("/reset");
    if args.clusters {
        url += "?clusters=true";
    }
    let request = connection.client()?.post(url);
    let cleared: irsa_emulator::state::Cleared = connection.send(request).await?.json().await?;
    println!("{cleared}");
    if !args.clusters {
        println!("clusters kept (pass --clusters to delete them too)");
    }
    Ok(())
}

pub async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let connection = &args.connection;
    let client = connection.client()?;
    let mut body = serde_json::json!({
        "namespace": args.namespace,
        "service_account": args.service_account,
        "audiences": args.audiences,
        "expiration_seconds": args.expiration,
    });
    if let Some(pod) = args.pod {
        let uid = args
            .pod_uid
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        body["pod"] = serde_json::json!({ "name": pod, "uid": uid });
    }
    let request = client
        .post(connection.url(&format!("/clusters/{}/token", args.cluster)))
        .json(&body);
    let response: serde_json::Value = connection.send(request).await?.json().await?;
    println!("{}", response["token"].as_str().unwrap_or_default());
    Ok(())
}

pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let connection = &args.connection;
    let client = connection.client()?;
    let mut since = 0u64;
    loop {
        let request = client.get(connection.url(&format!("/audit?since={since}")));
        let body: serde_json::Value = connection.send(request).await?.json().await?;
        for event in body["events"].as_array().into_iter().flatten() {
            since = since.max(event["seq"].as_u64().unwrap_or(since));
            if args.json {
                println!("{event}");
            } else {
                println!(
                    "{} {:<5} {} {} role={} {}\n    {}",
                    event["time"].as_str().unwrap_or_default(),
                    event["decision"]
                        .as_str()
                        .unwrap_or_default()
                        .to_uppercase(),
                    event["action"].as_str().unwrap_or_default(),
                    event["caller"].as_str().unwrap_or_default(),
                    event["role"].as_str().unwrap_or("-"),
                    event["code"].as_str().unwrap_or_default(),
                    event["explanation"].as_str().unwrap_or_default(),
                );
            }
        }
        if !args.follow {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
