//! The thumbprint IAM wants for an OIDC provider: SHA-1 (hex) of the top CA certificate of the issuer's TLS
//! chain. The chain is fetched with a verified TLS handshake, trusting the platform's roots plus
//! `AWS_CA_BUNDLE` (so a private CA, like the emulator's, works when the bundle names it).
//!
//! "Top" is the last certificate the server sends (what eksctl and the AWS docs use); when that one is not
//! self-issued and a trusted root issued it, the root is the top of the chain and is used instead.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use sha1::{Digest, Sha1};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::aws::ca_bundle_certs;
use crate::error::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(15);

/// Thumbprint of the issuer's top CA certificate, lowercase hex (40 characters).
pub async fn issuer_thumbprint(issuer: &str) -> Result<String> {
    let url = url::Url::parse(issuer)
        .map_err(|e| Error::usage(format!("issuer {issuer:?} is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| Error::usage(format!("issuer {issuer:?} has no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url.port_or_known_default().unwrap_or(443);

    let extra = ca_bundle_certs()?;
    let native = rustls_native_certs::load_native_certs().certs;
    let mut roots = RootCertStore::empty();
    for cert in native.iter().chain(extra.iter()) {
        let _ = roots.add(cert.clone());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&host, e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(config));
    let server_name =
        ServerName::try_from(host.clone()).map_err(|e| tls_error(&host, e.to_string()))?;

    let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| tls_error(&host, format!("timed out connecting to port {port}")))?
        .map_err(|e| tls_error(&host, format!("cannot connect to port {port}: {e}")))?;
    let stream = tokio::time::timeout(TIMEOUT, connector.connect(server_name, tcp))
        .await
        .map_err(|_| tls_error(&host, "timed out during the TLS handshake".into()))?
        .map_err(|e| {
            tls_error(
                &host,
                format!(
                    "{e}; if the issuer uses a private CA, set AWS_CA_BUNDLE to a PEM file containing it"
                ),
            )
        })?;
    let (_, conn) = stream.get_ref();
    let chain = conn
        .peer_certificates()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| tls_error(&host, "the server sent no certificate".into()))?;
    let last = chain.last().expect("non-empty chain");
    let top = top_ca(last, native.iter().chain(extra.iter()));
    Ok(sha1_hex(top))
}

fn tls_error(host: &str, message: String) -> Error {
    Error::Tls {
        host: host.to_string(),
        message,
    }
}

/// SHA-1 of DER bytes, lowercase hex.
pub fn sha1_hex(der: &[u8]) -> String {
    Sha1::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The last certificate of the chain, or the trusted root that issued it when it is not self-issued.
fn top_ca<'a>(
    last: &'a CertificateDer<'a>,
    trusted: impl Iterator<Item = &'a CertificateDer<'static>>,
) -> &'a [u8] {
    let Some((issuer, subject)) = issuer_and_subject(last) else {
        return last.as_ref();
    };
    if issuer == subject {
        return last.as_ref();
    }
    for root in trusted {
        if let Some((_, root_subject)) = issuer_and_subject(root) {
            if root_subject == issuer {
                return root.as_ref();
            }
        }
    }
    last.as_ref()
}

/// One DER TLV: `(tag, content, rest)`.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The raw issuer and subject Names of an X.509 certificate.
fn issuer_and_subject(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let (tag, _, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // [0] version, then the serial number.
        let (_, _, r) = tlv(rest)?;
        rest = r;
    }
    let (_, _, rest) = tlv(rest)?; // signature algorithm
    let (_, issuer, rest) = tlv(rest)?;
    let (_, _, rest) = tlv(rest)?; // validity
    let (_, subject, _) = tlv(rest)?;
    Some((issuer, subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_bytes() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn der_walk_rejects_garbage() {
        assert!(issuer_and_subject(b"").is_none());
        assert!(issuer_and_subject(&[0x30, 0x82, 0xff]).is_none());
        assert!(tlv(&[0x30, 0x03, 1, 2]).is_none());
        assert_eq!(
            tlv(&[0x02, 0x01, 7, 9]),
            Some((0x02, &[7u8][..], &[9u8][..]))
        );
    }
}
