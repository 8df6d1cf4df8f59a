//! One client connection, kept alive while the server allows it. moto's development server answers
//! `Connection: close`, so a connection reconnects whenever the server ends it; that is moto's cost, and it is
//! counted in its latency as a client would see it. HTTPS targets are reached with rustls, trusting one CA.

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Where requests go: `http://host:port`, or `https://host:port` with the CA that signed its certificate.
#[derive(Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    tls: Option<TlsConnector>,
}

impl Target {
    /// `ca_pem` is required for https URLs: the emulator's ca.pem.
    pub fn new(url: &str, ca_pem: Option<&[u8]>) -> anyhow::Result<Self> {
        let mut target = Self::parse(url)?;
        if url.starts_with("https://") {
            let ca_pem =
                ca_pem.ok_or_else(|| anyhow!("{url}: give the CA to trust (--ca-file)"))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca_pem) {
                roots.add(cert.context("the CA file is not PEM certificates")?)?;
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()?
                .with_root_certificates(roots)
                .with_no_client_auth();
            target.tls = Some(TlsConnector::from(Arc::new(config)));
        }
        Ok(target)
    }

    /// A plain-HTTP target.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| anyhow!("{url}: give an http:// or https:// URL"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = authority.rsplit_once(':').ok_or_else(|| {
            anyhow!("{url}: give the port explicitly, e.g. http://127.0.0.1:8080")
        })?;
        Ok(Self {
            host: host.trim_matches(['[', ']']).to_string(),
            port: port.parse().with_context(|| format!("{url}: bad port"))?,
            tls: None,
        })
    }

    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

pub type Body = Full<Bytes>;

pub struct Connection {
    target: Target,
    sender: Option<SendRequest<Body>>,
}

impl Connection {
    pub fn new(target: Target) -> Self {
        Self {
            target,
            sender: None,
        }
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&mut self, request: Request<Body>) -> anyhow::Result<(StatusCode, Bytes)> {
        let sender = self.ready().await?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => {
                self.sender = None;
                return Err(e.into());
            }
        };
        let status = response.status();
        let closes = response
            .headers()
            .get(header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        let body = response.into_body().collect().await;
        if closes || body.is_err() {
            self.sender = None;
        }
        Ok((status, body?.to_bytes()))
    }

    async fn ready(&mut self) -> anyhow::Result<&mut SendRequest<Body>> {
        if let Some(sender) = self.sender.as_mut() {
            if sender.ready().await.is_err() {
                self.sender = None;
            }
        }
        if self.sender.is_none() {
            self.sender = Some(self.connect().await?);
        }
        match self.sender.as_mut() {
            Some(sender) => Ok(sender),
            None => bail!("unreachable: connected without a sender"),
        }
    }

    async fn connect(&self) -> anyhow::Result<SendRequest<Body>> {
        let stream = TcpStream::connect((self.target.host.as_str(), self.target.port))
            .await
            .with_context(|| format!("cannot connect to {}", self.target.authority()))?;
        stream.set_nodelay(true)?;
        match &self.target.tls {
            Some(tls) => {
                let name = ServerName::try_from(self.target.host.clone())?;
                handshake(tls.connect(name, stream).await?).await
            }
            None => handshake(stream).await,
        }
    }
}

async fn handshake<S>(stream: S) -> anyhow::Result<SendRequest<Body>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
