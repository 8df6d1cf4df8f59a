//! `irsa-emulator cluster …`: talks to a running emulator's admin API, then writes the key files an API
//! server needs to become that cluster's issuer.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use irsa_emulator::admin::ClusterInfo;
use irsa_emulator::clusters::{ClusterUpdate, NewCluster};
use irsa_emulator::config;

use super::DataDirArg;

#[derive(Subcommand)]
pub enum ClusterCommand {
    /// Create a cluster: prints its issuer, writes sa.key/sa.pub and the kube-apiserver flags that use them.
    Create(CreateArgs),
    /// Set a cluster's API server endpoint and CA, reported by DescribeCluster (once kind created the API server).
    Update(UpdateArgs),
    /// List clusters.
    List(Connection),
    /// Delete a cluster (its IAM OIDC provider, if any, stays: delete it with aws iam).
    Delete {
        name: String,
        #[command(flatten)]
        connection: Connection,
    },
}

#[derive(Args)]
pub(crate) struct Connection {
    /// The running emulator.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "https://127.0.0.1:8443"
    )]
    endpoint_url: String,
    /// CA bundle to trust for HTTPS, besides ca.pem in the data dir (which is trusted whenever it exists, so a
    /// machine-wide AWS_CA_BUNDLE of public roots does not shut out the emulator's own CA).
    #[arg(long, env = "AWS_CA_BUNDLE")]
    ca_bundle: Option<PathBuf>,
    #[command(flatten)]
    data_dir: DataDirArg,
    #[arg(long, env = "IRSA_ADMIN_SECRET_ACCESS_KEY", default_value = config::DEFAULT_ADMIN_SECRET_ACCESS_KEY, hide_default_value = true)]
    admin_secret_access_key: String,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Cluster name (letters, digits, - and _).
    name: String,
    /// API server URL that DescribeCluster reports.
    #[arg(long)]
    endpoint: Option<String>,
    /// PEM file of the API server's CA, reported as certificateAuthority.data.
    #[arg(long)]
    certificate_authority: Option<PathBuf>,
    /// Register a cluster that serves its own OIDC issuer (kind, self-managed) instead of minting one.
    #[arg(long)]
    issuer_url: Option<String>,
    /// Where to write sa.key and sa.pub [default: ./<name>].
    #[arg(long)]
    out_dir: Option<PathBuf>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Cluster name.
    name: String,
    /// API server URL that DescribeCluster reports (a kubeconfig's `server:`).
    #[arg(long)]
    endpoint: Option<String>,
    /// PEM file of the API server's CA, reported as certificateAuthority.data.
    #[arg(long)]
    certificate_authority: Option<PathBuf>,
    #[command(flatten)]
    connection: Connection,
}

impl Connection {
    pub(crate) fn client(&self) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder();
        if self.endpoint_url.starts_with("https://") {
            builder = builder.tls_built_in_root_certs(false);
            for root in self.roots()? {
                builder = builder.add_root_certificate(root);
            }
        }
        Ok(builder.build()?)
    }

    /// Every certificate of `--ca-bundle` (which must be readable when given) and the data dir's CA (when it
    /// exists); at least one of them.
    fn roots(&self) -> anyhow::Result<Vec<reqwest::Certificate>> {
        let mut roots = Vec::new();
        if let Some(bundle) = &self.ca_bundle {
            let pem = std::fs::read(bundle).with_context(|| {
                format!(
                    "cannot read the CA bundle {} (from --ca-bundle or AWS_CA_BUNDLE)",
                    bundle.display()
                )
            })?;
            roots.extend(
                reqwest::Certificate::from_pem_bundle(&pem)
                    .with_context(|| format!("{} is not a PEM bundle", bundle.display()))?,
            );
        }
        let own = irsa_emulator::tls::ca_path(&self.data_dir.resolve());
        if let Ok(pem) = std::fs::read(&own) {
            roots.extend(
                reqwest::Certificate::from_pem_bundle(&pem)
                    .with_context(|| format!("{} is not a PEM certificate", own.display()))?,
            );
        }
        if roots.is_empty() {
            bail!(
                "cannot read the emulator's CA at {} (pass --data-dir, --ca-bundle or set AWS_CA_BUNDLE)",
                own.display()
            );
        }
        Ok(roots)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!(
            "{}/_emulator{path}",
            self.endpoint_url.trim_end_matches('/')
        )
    }

    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<reqwest::Response> {
        let response = request
            .bearer_auth(&self.admin_secret_access_key)
            .send()
            .await
            .with_context(|| {
                format!(
                    "cannot reach the emulator at {} (is `irsa-emulator serve` running?)",
                    self.endpoint_url
                )
            })?;
        if !response.status().is_success() {
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            bail!(
                "{} ({status}): {}",
                body["__type"].as_str().unwrap_or("error"),
                body["message"].as_str().unwrap_or("no message")
            );
        }
        Ok(response)
    }
}

pub async fn run(command: ClusterCommand) -> anyhow::Result<()> {
    match command {
        ClusterCommand::Create(args) => create(args).await,
        ClusterCommand::Update(args) => update(args).await,
        ClusterCommand::List(connection) => {
            let client = connection.client()?;
            let response = connection
                .send(client.get(connection.url("/clusters")))
                .await?;
            let body: serde_json::Value = response.json().await?;
            println!("{:<24} ISSUER", "NAME");
            for cluster in body["clusters"].as_array().into_iter().flatten() {
                println!(
                    "{:<24} {}",
                    cluster["name"].as_str().unwrap_or_default(),
                    cluster["issuer"].as_str().unwrap_or_default()
                );
            }
            Ok(())
        }
        ClusterCommand::Delete { name, connection } => {
            let client = connection.client()?;
            connection
                .send(client.delete(connection.url(&format!("/clusters/{name}"))))
                .await?;
            println!("cluster {name} deleted");
            Ok(())
        }
    }
}

fn read_certificate_authority(path: Option<&Path>) -> anyhow::Result<Option<String>> {
    path.map(|path| {
        std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the API server's CA at {} (--certificate-authority)",
                path.display()
            )
        })
    })
    .transpose()
}

async fn update(args: UpdateArgs) -> anyhow::Result<()> {
    if args.endpoint.is_none() && args.certificate_authority.is_none() {
        bail!("nothing to update: pass --endpoint URL and/or --certificate-authority FILE");
    }
    let connection = &args.connection;
    let client = connection.client()?;
    let url = connection.url(&format!("/clusters/{}", args.name));
    let request = client.patch(url).json(&ClusterUpdate {
        endpoint: args.endpoint.clone(),
        certificate_authority_pem: read_certificate_authority(
            args.certificate_authority.as_deref(),
        )?,
    });
    let info: ClusterInfo = connection.send(request).await?.json().await?;
    println!("cluster:  {}", info.name);
    println!("endpoint: {}", info.endpoint);
    if args.certificate_authority.is_some() {
        println!("certificateAuthority: set");
    }
    Ok(())
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let certificate_authority_pem =
        read_certificate_authority(args.certificate_authority.as_deref())?;
    let connection = &args.connection;
    let client = connection.client()?;
    let request = client.post(connection.url("/clusters")).json(&NewCluster {
        name: args.name.clone(),
        endpoint: args.endpoint.clone(),
        certificate_authority_pem,
        issuer_url: args.issuer_url.clone(),
    });
    let info: ClusterInfo = connection.send(request).await?.json().await?;
    println!("cluster:  {}", info.name);
    println!("arn:      {}", info.arn);
    println!("issuer:   {}", info.issuer);
    if let (Some(private), Some(public)) = (&info.signing_key_pem, &info.public_key_pem) {
        let out_dir = args.out_dir.unwrap_or_else(|| PathBuf::from(&args.name));
        let (key, public_path) = write_keys(&out_dir, private, public)?;
        println!("keys:     {} {}", key.display(), public_path.display());
        println!("kube-apiserver flags:");
        for flag in irsa_names::apiserver_issuer_flags(
            &info.issuer,
            &key,
            &public_path,
            &irsa_names::default_api_audiences(),
        ) {
            println!("  {flag}");
        }
    }
    Ok(())
}

fn write_keys(dir: &Path, private: &str, public: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let key = dir.join("sa.key");
    let public_path = dir.join("sa.pub");
    std::fs::write(&key, private).with_context(|| format!("cannot write {}", key.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::write(&public_path, public)?;
    Ok((key, public_path))
}
