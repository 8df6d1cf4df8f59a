//! Running the emulator: TLS, connection timeouts, the router and the state behind it.

mod idle;
mod router;
mod state;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;

pub use state::AppState;

use crate::audit::Audit;
use crate::config::Config;
use crate::install_crypto_provider;
use crate::state::Store;

/// A running emulator; dropping it does not stop it, [`Emulator::shutdown`] does.
pub struct Emulator {
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    ca_path: Option<PathBuf>,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What clients set as `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// PEM of the CA clients must trust (`None` with plain HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Where the CA was written, when there is a data dir (`AWS_CA_BUNDLE`).
    pub fn ca_path(&self) -> Option<&std::path::Path> {
        self.ca_path.as_deref()
    }

    pub async fn shutdown(self) {
        self.handle.shutdown();
        let _ = self.task.await;
    }

    /// Waits until the server stops (it runs until killed or shut down).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?.context("server failed")
    }
}

/// Closes connections whose request headers do not arrive in time (idle keep-alive connections included);
/// the body has its own deadline in the Query endpoint. TLS handshakes are bounded by axum-server (10 s).
fn read_timeouts(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    timeout: std::time::Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout);
}

pub async fn start(config: Config) -> anyhow::Result<Emulator> {
    install_crypto_provider();
    let mut listeners = Vec::with_capacity(1 + config.also_listen.len());
    for at in std::iter::once(&config.listen).chain(&config.also_listen) {
        let listener =
            std::net::TcpListener::bind(at).with_context(|| format!("cannot listen on {at}"))?;
        listener.set_nonblocking(true)?;
        listeners.push(listener);
    }
    let addr = listeners[0].local_addr()?;
    let public_url = config.public_url_for(addr);

    let tls = if config.tls {
        let material = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create data dir {}", dir.display()))?;
                tls::load_or_create(dir, &config.hostnames)?
            }
            None => tls::ephemeral(&config.hostnames)?,
        };
        Some(material)
    } else {
        None
    };

    let db_path = config.data_dir.as_ref().map(|d| d.join("state.db"));
    let store = Store::open(db_path.as_deref())
        .with_context(|| format!("cannot open state in {:?}", config.data_dir))?;
    let ca_path = match (&tls, &config.data_dir) {
        (Some(_), Some(dir)) => Some(tls::ca_path(dir)),
        _ => None,
    };
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let audit = Audit::new(config.data_dir.as_ref().map(|d| d.join("audit.log")));
    let store = Arc::new(store);
    let associations = crate::pod_identity::Associations::new(
        store.clone(),
        &config.region,
        &crate::partition::Account::new(&config.account_id, &config.region),
    );
    let state = AppState::build(&config, &public_url, ca_pem.as_deref(), store, audit)
        .context("cannot load the session key")?;
    let webhook = crate::webhook::Webhook::start(
        &config,
        &public_url,
        ca_pem.as_deref(),
        Some((state.clusters.clone(), associations)),
    )
    .await?;
    let app = router::router(state)
        .merge(crate::webhook::router(webhook))
        .into_make_service();
    let handle = axum_server::Handle::new();
    let rustls_config = match tls {
        Some(material) => Some(
            RustlsConfig::from_pem(
                material.cert_pem.into_bytes(),
                material.key_pem.into_bytes(),
            )
            .await
            .context("invalid TLS material")?,
        ),
        None => None,
    };
    let mut servers = Vec::with_capacity(listeners.len());
    for listener in listeners {
        let (app, handle) = (app.clone(), handle.clone());
        let idle = idle::IdleTimeout::new(config.idle_timeout);
        servers.push(match &rustls_config {
            Some(rustls_config) => {
                let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(rustls_config.clone())
                    .acceptor(idle);
                let mut server = axum_server::from_tcp(listener)?
                    .acceptor(acceptor)
                    .handle(handle);
                read_timeouts(server.http_builder(), config.request_read_timeout);
                tokio::spawn(async move { server.serve(app).await })
            }
            None => {
                let mut server = axum_server::from_tcp(listener)?
                    .acceptor(idle)
                    .handle(handle);
                read_timeouts(server.http_builder(), config.request_read_timeout);
                tokio::spawn(async move { server.serve(app).await })
            }
        });
    }
    // One task for all addresses: the emulator stops when any of them fails, and shutdown stops them all.
    let task = tokio::spawn(async move {
        for server in futures::future::join_all(servers).await {
            server??;
        }
        Ok(())
    });
    tracing::info!(%addr, url = %public_url, "irsa-emulator listening");
    Ok(Emulator {
        addr,
        url: public_url,
        ca_pem,
        ca_path,
        handle,
        task,
    })
}
