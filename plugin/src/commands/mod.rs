//! One module per command, and the context they share: lazily connected AWS and Kubernetes clients, the
//! namespace, and where the cluster's OIDC issuer comes from.

pub mod annotate;
pub mod create;
pub mod delete;
pub mod describe;
pub mod describe_pod;
pub mod describe_pod_identity;
pub mod lint;
pub mod list;
pub mod migrate;
pub mod oidc;
pub mod orphans;
pub mod trust;

use std::io::Write;

use tokio::sync::OnceCell;

use crate::aws::{Aws, AwsSettings, Provider};
use crate::cli::{Cli, Command, GlobalArgs, IssuerArgs, OidcCommand, OutputFormat, TrustCommand};
use crate::error::{Error, Result};
use crate::kube::{is_dns_label, Kube, KubeSettings};

/// Default attempts per AWS call (throttling is retried with exponential backoff).
pub const DEFAULT_AWS_ATTEMPTS: u32 = 5;

/// Where the issuer came from, so messages can repeat the same flags.
#[derive(Debug, Clone, PartialEq)]
pub struct Issuer {
    pub url: String,
    /// The flags that select this issuer (`--cluster X`, `--oidc-issuer U`, or empty when discovered).
    pub flags: String,
}

/// Shared by every command.
pub struct Ctx {
    pub global: GlobalArgs,
    kube_settings: KubeSettings,
    aws_settings: AwsSettings,
    aws: OnceCell<Aws>,
    kube: OnceCell<Kube>,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Ctx {
        Ctx {
            kube_settings: KubeSettings {
                kubeconfig: global.kubeconfig.clone(),
                context: global.context.clone(),
            },
            aws_settings: AwsSettings {
                region: global.region.clone(),
                profile: global.profile.clone(),
                max_attempts: DEFAULT_AWS_ATTEMPTS,
            },
            global,
            aws: OnceCell::new(),
            kube: OnceCell::new(),
        }
    }

    /// More retries for bulk work (`-f`), where throttling is likely.
    pub fn with_aws_attempts(mut self, attempts: u32) -> Ctx {
        self.aws_settings.max_attempts = attempts;
        self
    }

    /// Region from the flag unless already set (used for a cluster config's metadata.region).
    pub fn set_default_region(&mut self, region: Option<String>) {
        if self.aws_settings.region.is_none() {
            self.aws_settings.region = region;
        }
    }

    pub fn output(&self) -> OutputFormat {
        self.global.output
    }

    pub async fn aws(&self) -> Result<&Aws> {
        self.aws
            .get_or_try_init(|| Aws::connect(&self.aws_settings))
            .await
    }

    pub async fn kube(&self) -> Result<&Kube> {
        self.kube
            .get_or_try_init(|| Kube::connect(&self.kube_settings))
            .await
    }

    /// `-n`, else the context's namespace, else `default`.
    pub fn namespace(&self) -> Result<String> {
        let ns = match &self.global.namespace {
            Some(ns) => ns.clone(),
            None => self
                .kube_settings
                .context_defaults()?
                .0
                .unwrap_or_else(|| "default".to_string()),
        };
        if !is_dns_label(&ns) {
            return Err(Error::usage(format!(
                "namespace {ns:?} is not a valid Kubernetes namespace name (lowercase letters, digits and '-', \
                 at most 63)"
            )));
        }
        Ok(ns)
    }

    /// The kubeconfig context's cluster name, if there is one (used in default role names).
    pub fn context_cluster(&self) -> Option<String> {
        self.kube_settings.context_defaults().ok().and_then(|d| d.1)
    }

    /// The EKS cluster whose Pod Identity associations to read: `--cluster`, else the kubeconfig context's
    /// cluster when it is an EKS cluster ARN (what `aws eks update-kubeconfig` writes). `None`: not EKS, or not
    /// known, so Pod Identity is not looked at.
    pub fn eks_cluster(&self, args: &IssuerArgs) -> Option<String> {
        if let Some(cluster) = &args.cluster {
            return Some(cluster.clone());
        }
        if args.oidc_issuer.is_some() {
            return None;
        }
        let context = self.context_cluster()?;
        let arn = context.parse::<irsa_policy::Arn>().ok()?;
        let name = arn.resource.strip_prefix("cluster/")?;
        (arn.service == "eks" && !name.is_empty()).then(|| name.to_string())
    }

    /// The cluster's issuer: `--oidc-issuer`, else EKS DescribeCluster for `--cluster`, else the Kubernetes
    /// API's discovery document.
    pub async fn issuer(&self, args: &IssuerArgs) -> Result<Issuer> {
        if let Some(url) = &args.oidc_issuer {
            validate_issuer_url(url)?;
            return Ok(Issuer {
                url: url.trim_end_matches('/').to_string(),
                flags: format!("--oidc-issuer {url}"),
            });
        }
        if let Some(cluster) = &args.cluster {
            let url = self.aws().await?.cluster_issuer(cluster).await?;
            return Ok(Issuer {
                url,
                flags: format!("--cluster {cluster}"),
            });
        }
        let url = self.kube().await?.discover_issuer().await?;
        Ok(Issuer {
            url,
            flags: String::new(),
        })
    }

    /// The IAM OIDC provider for the issuer; a clear error naming `oidc associate` when there is none or it
    /// lacks the audience.
    pub async fn provider(&self, issuer: &Issuer, audience: &str) -> Result<Provider> {
        let aws = self.aws().await?;
        let Some(provider) = aws.find_provider(&issuer.url).await? else {
            let account = aws.account().await.unwrap_or_else(|_| {
                irsa_policy::Account::new(
                    irsa_policy::partition_of_region(&aws.region),
                    "<account>",
                )
            });
            return Err(Error::MissingProvider {
                issuer: issuer.url.clone(),
                provider_arn: account.provider_arn(&issuer.url),
                associate_args: issuer.flags.clone(),
            });
        };
        if !provider.client_ids.iter().any(|c| c == audience) {
            return Err(Error::MissingAudience {
                provider_arn: provider.arn.clone(),
                audience: audience.to_string(),
                client_ids: provider.client_ids.join(", "),
                associate_args: issuer.flags.clone(),
            });
        }
        Ok(provider)
    }
}

/// An issuer URL IAM accepts: `https://host[/path]`, no query or fragment.
pub fn validate_issuer_url(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| Error::usage(format!("--oidc-issuer {url:?} is not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(Error::usage(format!(
            "--oidc-issuer {url:?} must start with https:// (IAM only trusts HTTPS issuers)"
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::usage(format!("--oidc-issuer {url:?} has no host")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::usage(format!(
            "--oidc-issuer {url:?} must not have a query or fragment"
        )));
    }
    Ok(())
}

/// Validate a role ARN given on the command line.
pub fn validate_role_arn(flag: &str, arn: &str) -> Result<()> {
    let ok = arn
        .parse::<irsa_policy::Arn>()
        .is_ok_and(|a| a.service == "iam" && a.resource.starts_with("role/"))
        && irsa_policy::role_name_from_arn(arn).is_some();
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{flag} {arn:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
        )))
    }
}

/// Validate a managed-policy ARN given on the command line.
pub fn validate_policy_arn(flag: &str, arn: &str) -> Result<()> {
    let ok = arn.parse::<irsa_policy::Arn>().is_ok_and(|a| {
        a.service == "iam" && a.resource.starts_with("policy/") && a.resource.len() > 7
    });
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{flag} {arn:?} is not an IAM policy ARN (arn:aws:iam::<account>:policy/<name> or \
             arn:aws:iam::aws:policy/<name>)"
        )))
    }
}

/// Print to stdout, ignoring a closed pipe (`kubectl irsa list | head`).
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Print a warning to stderr.
pub fn warn(text: &str) {
    eprintln!("warning: {text}");
}

/// Run the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    // The GitOps exports are `create --dry-run`'s alone: refused before anything is contacted.
    if cli.global.output.is_export() && !matches!(cli.command, Command::Create(_)) {
        return Err(Error::usage(
            "-o terraform|cloudformation|eksctl is for `create --dry-run` only",
        ));
    }
    let ctx = Ctx::new(cli.global);
    match cli.command {
        Command::Create(args) => create::run(ctx, *args).await,
        Command::Annotate(args) => annotate::run(&ctx, args).await,
        Command::Describe(args) => describe::run(&ctx, args).await,
        Command::List(args) => list::run(&ctx, args).await,
        Command::Delete(args) => delete::run(&ctx, args).await,
        Command::Migrate(args) => migrate::run(&ctx, args).await,
        Command::Oidc(OidcCommand::Associate(args)) => oidc::associate(&ctx, args).await,
        Command::Oidc(OidcCommand::Show(args)) => oidc::show(&ctx, args).await,
        Command::Lint(args) => lint::run(&ctx, args),
        Command::Diff(args) => create::diff::run(ctx, args).await,
        Command::Trust(TrustCommand::Remove(args)) => trust::remove(&ctx, args).await,
        Command::Completion(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "kubectl-irsa", &mut buf);
            print(&String::from_utf8_lossy(&buf));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_urls() {
        assert!(validate_issuer_url("https://oidc.eks.us-east-1.amazonaws.com/id/ABC").is_ok());
        assert!(validate_issuer_url("https://127.0.0.1:8443/id/X").is_ok());
        for (bad, why) in [
            ("http://x/y", "must start with https://"),
            ("oidc.example.com", "is not a URL"),
            ("https://x/y?z=1", "must not have a query"),
        ] {
            match validate_issuer_url(bad) {
                Err(Error::Usage(message)) => assert!(message.contains(why), "{message}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn arns() {
        assert!(validate_role_arn("--role-arn", "arn:aws:iam::111122223333:role/r").is_ok());
        assert!(validate_role_arn("--role-arn", "arn:aws:iam::111122223333:role/p/r").is_ok());
        for bad in ["arn:aws:iam::111122223333:user/r", "my-role"] {
            match validate_role_arn("--role-arn", bad) {
                Err(Error::Usage(message)) => assert!(message.contains("is not an IAM role ARN")),
                other => panic!("{bad}: {other:?}"),
            }
        }
        assert!(validate_policy_arn("--p", "arn:aws:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(validate_policy_arn("--p", "arn:aws:iam::111122223333:policy/x").is_ok());
        for bad in ["arn:aws:iam::111122223333:role/x", "ReadOnlyAccess"] {
            match validate_policy_arn("--p", bad) {
                Err(Error::Usage(message)) => assert!(message.contains("is not an IAM policy ARN")),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
