//! `irsa-emulator webhook install | uninstall`: register the emulator's `/mutate` as the cluster's pod
//! identity webhook, or remove it.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use irsa_emulator::webhook::install::{self, InstallOptions, Target};

use super::DataDirArg;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Apply the MutatingWebhookConfiguration sending pod creations to the emulator (failurePolicy Ignore).
    ///
    /// Run `irsa-emulator serve --kubeconfig …` against the same cluster: that is where the webhook reads
    /// ServiceAccounts and publishes its CA (ConfigMap irsa-emulator-ca) to every namespace.
    #[command(
        after_help = "Example (kind; the API server reaches the host at the kind network's gateway):\n  irsa-emulator serve --listen 0.0.0.0:8443 --hostname 172.18.0.1 --public-url https://172.18.0.1:8443 --kubeconfig ~/.kube/config &\n  irsa-emulator webhook install --url https://172.18.0.1:8443"
    )]
    Install(InstallArgs),
    /// Delete the MutatingWebhookConfiguration and the CA ConfigMaps the emulator published.
    Uninstall(UninstallArgs),
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["url", "service"])))]
pub struct InstallArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The emulator's URL as the API server reaches it (https; `/mutate` is appended).
    #[arg(long)]
    url: Option<String>,
    /// A Service in front of the emulator: namespace/name[:port].
    #[arg(long)]
    service: Option<String>,
    /// PEM of the CA that signed the emulator's certificate [default: ca.pem in the data dir].
    #[arg(long)]
    ca_file: Option<PathBuf>,
    #[command(flatten)]
    data_dir: DataDirArg,
    /// How long the API server waits for the webhook before admitting the pod unchanged (1-30).
    #[arg(long, default_value_t = install::DEFAULT_TIMEOUT_SECONDS)]
    timeout_seconds: i32,
}

#[derive(Args)]
pub struct UninstallArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Args)]
struct ClusterArgs {
    /// Kubeconfig of the cluster [default: $KUBECONFIG, ~/.kube/config].
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Name of the MutatingWebhookConfiguration.
    #[arg(long, default_value = install::DEFAULT_NAME)]
    name: String,
}

pub async fn run(command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Install(args) => {
            let target = match (&args.url, &args.service) {
                (Some(url), None) => Target::Url(url.clone()),
                (None, Some(service)) => Target::service(service)?,
                _ => bail!("give exactly one of --url and --service"),
            };
            let ca_file = args
                .ca_file
                .clone()
                .unwrap_or_else(|| irsa_emulator::tls::ca_path(&args.data_dir.resolve()));
            let ca_pem = std::fs::read_to_string(&ca_file).with_context(|| {
                format!(
                    "cannot read the emulator's CA {} (start `irsa-emulator serve` once, or pass --ca-file)",
                    ca_file.display()
                )
            })?;
            let options = InstallOptions {
                name: args.cluster.name.clone(),
                target,
                ca_pem,
                timeout_seconds: args.timeout_seconds,
            };
            // Validate before touching the cluster.
            install::webhook_configuration(&options)?;
            let client = install::client(args.cluster.kubeconfig.as_deref()).await?;
            install::install(&client, &options).await?;
            eprintln!(
                "MutatingWebhookConfiguration {} applied: pod creations go to the emulator (failurePolicy Ignore)",
                options.name
            );
            Ok(())
        }
        WebhookCommand::Uninstall(args) => {
            let client = install::client(args.cluster.kubeconfig.as_deref()).await?;
            let removed = install::uninstall(&client, &args.cluster.name).await?;
            if removed.webhook_configuration {
                eprintln!("MutatingWebhookConfiguration {} deleted", args.cluster.name);
            } else {
                eprintln!(
                    "MutatingWebhookConfiguration {} was not installed",
                    args.cluster.name
                );
            }
            eprintln!(
                "{} CA ConfigMap(s) irsa-emulator-ca deleted",
                removed.ca_configmaps
            );
            Ok(())
        }
    }
}
