//! The EKS Pod Identity agent (`irsa-emulator agent`): what aws/eks-pod-identity-agent serves on every node,
//! pointed at the emulator's eks-auth.
//!
//! A pod's SDK (container credentials provider: `AWS_CONTAINER_CREDENTIALS_FULL_URI` plus
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`) sends `GET /v1/credentials` with the token file's contents as the
//! `Authorization` header. The agent checks what upstream checks before calling out (`internal/validation`:
//! the request came to one of its addresses, the token is there and is a JWT whose `exp`/`nbf` hold), then
//! calls eks-auth `AssumeRoleForPodIdentity` for its cluster, signed with the node's credentials, and answers
//! with the credentials JSON the SDKs read (`pkg/credentials/model.go`). Refusals are plain text with
//! upstream's status and wording (`pkg/errors/errors.go`): eks-auth's own status and
//! `[request-id]: (Code): message, fault: client` for a service error, 400 for a malformed request, 403 for a
//! wrong address.
//!
//! What upstream does and this agent does not: it caches credentials per token (up to
//! `--max-credential-retention-before-renewal`, 3 h) and rate-limits calls to eks-auth; here every request is
//! an eks-auth call, so every one is decided and audited by the emulator. Its node credentials come from the
//! standard environment variables, not IMDS (there is no EC2 here): the emulator's admin key or any key
//! allowed `eks-auth:AssumeRoleForPodIdentity`.
//!
//! [`link`] is the init step upstream's init container performs: the link-local addresses on a dummy
//! interface of the node.

mod eks_auth;
pub mod link;
mod token;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::task::JoinHandle;

pub use eks_auth::{EksAuthClient, NodeCredentials};
use irsa_names::{AGENT_CREDENTIALS_PATH, AGENT_IPV4_ADDRESS, AGENT_IPV6_ADDRESS, AGENT_PORT};

/// Upstream's default `--probe-port` (liveness and readiness on localhost).
pub const DEFAULT_PROBE_PORT: u16 = 2703;

/// What `irsa-emulator agent` runs with.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The EKS cluster the agent's node belongs to (upstream `--cluster-name`).
    pub cluster_name: String,
    /// Where pods reach it (upstream `--bind-hosts` and `--port`).
    pub bind: Vec<SocketAddr>,
    /// Liveness and readiness (`/healthz`, `/readyz`); `None`: not served.
    pub probe: Option<SocketAddr>,
    /// eks-auth's URL (upstream `--endpoint`): the emulator's.
    pub endpoint: String,
    pub region: String,
    pub credentials: NodeCredentials,
    /// PEM roots trusted for the endpoint (the emulator's CA, `AWS_CA_BUNDLE`).
    pub ca_pem: Option<String>,
}

impl AgentConfig {
    /// Upstream's addresses: `169.254.170.23:80` and `[fd00:ec2::23]:80`.
    pub fn default_bind() -> Vec<SocketAddr> {
        [AGENT_IPV4_ADDRESS, AGENT_IPV6_ADDRESS]
            .iter()
            .map(|ip| SocketAddr::new(ip.parse().expect("a literal address"), AGENT_PORT))
            .collect()
    }
}

/// A running agent. Dropping it stops its servers.
pub struct Agent {
    addrs: Vec<SocketAddr>,
    probe: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Agent {
    /// The addresses it serves credentials on (the ports the OS chose, for `:0`).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// `http://ADDR/v1/credentials` for the first address: what `AWS_CONTAINER_CREDENTIALS_FULL_URI` holds.
    pub fn credentials_url(&self) -> String {
        format!("http://{}{AGENT_CREDENTIALS_PATH}", self.addrs[0])
    }

    pub fn probe_addr(&self) -> Option<SocketAddr> {
        self.probe
    }

    /// Runs until one of the servers fails.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let tasks = std::mem::take(&mut self.tasks);
        let (result, _, _) = futures::future::select_all(tasks).await;
        result.context("agent server task")?;
        anyhow::bail!("an agent server stopped")
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[derive(Clone)]
struct AgentState {
    cluster_name: Arc<str>,
    /// The hosts a request may name (its `Host` header), as upstream's `validateRequestTargetHost`: the bound
    /// addresses; `None` when one of them is unspecified (0.0.0.0), which any host reaches.
    target_hosts: Option<Arc<[IpAddr]>>,
    eks_auth: EksAuthClient,
}

/// Binds every address (failing with the one that cannot be bound) and starts serving.
pub async fn start(config: AgentConfig) -> anyhow::Result<Agent> {
    anyhow::ensure!(
        !config.cluster_name.is_empty(),
        "--cluster-name is required: the EKS cluster this node belongs to"
    );
    anyhow::ensure!(
        !config.bind.is_empty(),
        "no address to serve on (--bind-hosts)"
    );
    let eks_auth = EksAuthClient::new(
        &config.endpoint,
        &config.region,
        config.credentials.clone(),
        config.ca_pem.as_deref(),
    )?;
    let mut listeners = Vec::new();
    for addr in &config.bind {
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!(
                "cannot listen on {addr}{}",
                if addr.ip().to_string() == AGENT_IPV4_ADDRESS
                    || addr.ip().to_string() == AGENT_IPV6_ADDRESS
                {
                    " (is the address on this node? `irsa-emulator agent init` adds it, as the agent's init container does)"
                } else {
                    ""
                }
            )
        })?;
        listeners.push(listener);
    }
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()?;
    let target_hosts = (!addrs.iter().any(|a| a.ip().is_unspecified()))
        .then(|| addrs.iter().map(|a| a.ip()).collect::<Arc<[IpAddr]>>());
    let state = AgentState {
        cluster_name: config.cluster_name.as_str().into(),
        target_hosts,
        eks_auth,
    };
    let app = Router::new()
        .route(AGENT_CREDENTIALS_PATH, get(credentials))
        .with_state(state);
    let mut tasks = Vec::new();
    for listener in listeners {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "agent server failed");
            }
        }));
    }
    let mut probe = None;
    if let Some(at) = config.probe {
        let listener = tokio::net::TcpListener::bind(at)
            .await
            .with_context(|| format!("cannot listen on {at} for probes (--probe-port)"))?;
        probe = Some(listener.local_addr()?);
        let probes = Router::new()
            .route("/healthz", get(probe_handler))
            .route("/readyz", get(probe_handler))
            .with_state(Arc::<[SocketAddr]>::from(addrs.clone()));
        tasks.push(tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, probes).await {
                tracing::error!(%error, "agent probe server failed");
            }
        }));
    }
    tracing::info!(cluster = %config.cluster_name, ?addrs, endpoint = %config.endpoint, "pod identity agent serving {AGENT_CREDENTIALS_PATH}");
    Ok(Agent {
        addrs,
        probe,
        tasks,
    })
}

/// An answer as Go's `http.Error` writes it: the message and a newline, as plain text.
fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /v1/credentials`.
async fn credentials(State(agent): State<AgentState>, headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if let Err(message) = check_target_host(agent.target_hosts.as_deref(), host) {
        tracing::warn!(host, "credentials request refused: wrong address");
        return plain_error(StatusCode::FORBIDDEN, &message);
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if let Err(message) = token::check(token, chrono::Utc::now().timestamp()) {
        tracing::warn!(reason = %message, "credentials request refused before eks-auth");
        return plain_error(StatusCode::BAD_REQUEST, &message);
    }
    match agent.eks_auth.assume(&agent.cluster_name, token).await {
        Ok(credentials) => {
            tracing::info!(role = %credentials.role_arn, "credentials served");
            let mut response = axum::Json(credentials.body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(refused) => {
            tracing::warn!(status = %refused.status, message = %refused.message, "eks-auth refused");
            plain_error(refused.status, &refused.message)
        }
    }
}

/// Upstream's `validateRequestTargetHost`: the `Host` (port and IPv6 brackets dropped) must be one of the
/// agent's addresses, so that a pod cannot be tricked into sending its token elsewhere through a redirect.
fn check_target_host(allowed: Option<&[IpAddr]>, host: &str) -> Result<(), String> {
    let Some(allowed) = allowed else {
        return Ok(());
    };
    // net.SplitHostPort, then the brackets of a bare IPv6 host.
    let bare = match host.strip_prefix('[').and_then(|h| h.split_once(']')) {
        Some((inside, _)) => inside,
        None if host.matches(':').count() == 1 => host.split_once(':').map_or(host, |(h, _)| h),
        None => host,
    };
    if bare.parse::<IpAddr>().is_ok_and(|ip| allowed.contains(&ip)) {
        return Ok(());
    }
    let wanted: Vec<String> = allowed.iter().map(IpAddr::to_string).collect();
    Err(format!(
        "Access Denied. Called agent through invalid address, please use either [{}] address not {bare}",
        wanted.join(" ")
    ))
}

/// Upstream's probe: every credentials address answers `GET /` (with a 404, as nothing is served there).
async fn probe_handler(State(addrs): State<Arc<[SocketAddr]>>) -> StatusCode {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build();
    let Ok(client) = client else {
        return StatusCode::INTERNAL_SERVER_ERROR;
    };
    for addr in addrs.iter() {
        match client.get(format!("http://{addr}/")).send().await {
            Ok(r) if r.status() == StatusCode::NOT_FOUND => {}
            Ok(r) => {
                tracing::warn!(%addr, status = %r.status(), "probe: unexpected status");
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            Err(e) if e.is_timeout() => return StatusCode::REQUEST_TIMEOUT,
            Err(error) => {
                tracing::warn!(%addr, %error, "probe failed");
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
        }
    }
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<IpAddr> {
        AgentConfig::default_bind()
            .iter()
            .map(SocketAddr::ip)
            .collect()
    }

    #[test]
    fn the_host_must_be_one_of_the_agent_addresses() {
        let allowed = defaults();
        for host in [
            "169.254.170.23",
            "169.254.170.23:80",
            "[fd00:ec2::23]",
            "[fd00:ec2::23]:80",
        ] {
            assert_eq!(
                check_target_host(Some(allowed.as_slice()), host),
                Ok(()),
                "{host}"
            );
        }
        assert_eq!(
            check_target_host(Some(allowed.as_slice()), "evil.example:80"),
            Err("Access Denied. Called agent through invalid address, please use either [169.254.170.23 fd00:ec2::23] address not evil.example".into())
        );
        assert!(check_target_host(Some(allowed.as_slice()), "169.254.170.2").is_err());
        assert_eq!(check_target_host(None, "anything"), Ok(()));
    }
}
