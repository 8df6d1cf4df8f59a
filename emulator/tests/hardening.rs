//! What a hostile or broken client cannot do: hold connections open forever, trickle a body, reach the admin API
//! with credentials STS handed out, or keep using tokens of a deleted cluster.

mod common;

use std::time::{Duration, Instant};

use irsa_emulator::{config, Config, Emulator};
use rustls_pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const READ_TIMEOUT: Duration = Duration::from_secs(1);

async fn start_plain_http() -> Emulator {
    let mut config = Config::ephemeral();
    config.tls = false;
    config.request_read_timeout = READ_TIMEOUT;
    config.idle_timeout = READ_TIMEOUT * 2;
    irsa_emulator::start(config).await.expect("emulator starts")
}

/// Reads until the server closes; returns what it sent and how long that took.
async fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the server kept the connection open for 15 s");
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let emulator = start_plain_http().await;
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    let (_, took) = read_until_closed(&mut stream).await;
    assert!(
        took >= READ_TIMEOUT,
        "closed after {took:?}, before the idle timeout"
    );
}

#[tokio::test]
async fn a_tls_connection_silent_after_its_handshake_is_closed() {
    let mut config = Config::ephemeral();
    config.idle_timeout = READ_TIMEOUT;
    let emulator = irsa_emulator::start(config).await.expect("emulator starts");
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(
            rustls_pki_types::CertificateDer::from_pem_slice(emulator.ca_pem().unwrap().as_bytes())
                .unwrap(),
        )
        .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(emulator.addr()).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let started = Instant::now();
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the server kept a silent TLS connection open for 15 s"
    );
    assert!(
        started.elapsed() >= READ_TIMEOUT / 2,
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn headers_trickled_slower_than_the_timeout_are_cut_off() {
    let emulator = start_plain_http().await;
    let (mut from_server, mut to_server) = TcpStream::connect(emulator.addr())
        .await
        .unwrap()
        .into_split();
    // A byte every 100 ms: the connection is never silent for the idle timeout (2 s), and the header would
    // take 8 s to complete. Only the header read timeout (1 s) can end it in between.
    const BYTE_EVERY: Duration = Duration::from_millis(100);
    let head = format!("POST / HTTP/1.1\r\nHost: x\r\nX-Slow: {}", "a".repeat(60));
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for (sent, byte) in head.bytes().enumerate() {
            if to_server.write_all(&[byte]).await.is_err() {
                return sent;
            }
            tokio::time::sleep(BYTE_EVERY).await;
        }
        head.len()
    });
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        Duration::from_secs(15),
        from_server.read_to_end(&mut received),
    )
    .await;
    let took = started.elapsed();
    assert!(read.is_ok(), "the server kept the connection open for 15 s");
    assert!(
        took >= READ_TIMEOUT * 9 / 10,
        "cut off after {took:?}, before the header timeout ({READ_TIMEOUT:?})"
    );
    assert!(
        took < READ_TIMEOUT * 4,
        "cut off after {took:?}: the header timeout ({READ_TIMEOUT:?}) did not end it"
    );
    let sent = trickle.await.unwrap();
    let whole = "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ".len() + 60;
    assert!(
        sent < whole,
        "the whole header ({whole} bytes) went through"
    );
}

#[tokio::test]
async fn a_body_that_never_completes_gets_request_timeout() {
    let emulator = start_plain_http().await;
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    // Signed for STS: the error is STS's, in its XML namespace, though the body (with Version) never arrived.
    let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
        Authorization: AWS4-HMAC-SHA256 Credential=AKIAIRSAEMULATORTEST/20261122/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00\r\n\
        Content-Length: 100\r\n\r\nAction=GetCallerIdentity";
    stream.write_all(head.as_bytes()).await.unwrap();
    let (response, took) = read_until_closed(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains("<Code>RequestTimeout</Code>"),
        "{response}"
    );
    assert!(
        response.contains("https://sts.amazonaws.com/doc/2011-06-15/"),
        "{response}"
    );
    assert!(took >= READ_TIMEOUT / 2, "answered after {took:?}");
}

#[tokio::test]
async fn keep_alive_requests_still_work_within_the_timeout() {
    let emulator = start_plain_http().await;
    let mut stream = TcpStream::connect(emulator.addr()).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        tokio::time::sleep(READ_TIMEOUT / 4).await;
    }
}

#[tokio::test]
async fn the_admin_api_refuses_assumed_role_credentials() {
    let emulator = common::start().await;
    let session = common::session_credentials(&emulator, "adm", "admin-probe").await;
    let http = common::http_client(&emulator);
    let url = |path: &str| format!("{}/_emulator{path}", emulator.url());
    // Every way a session could present itself: its secret, its token, its key id as a bearer.
    let bearers = [
        session.secret_access_key().to_string(),
        session.session_token().unwrap().to_string(),
        session.access_key_id().to_string(),
    ];
    for bearer in &bearers {
        for (method, path) in [
            ("GET", "/audit"),
            ("GET", "/clusters"),
            ("POST", "/clusters"),
            ("POST", "/clusters/adm/token"),
            ("DELETE", "/clusters/adm"),
            ("POST", "/reset"),
            ("POST", "/reset?clusters=true"),
        ] {
            let request = http
                .request(method.parse().unwrap(), url(path))
                .bearer_auth(bearer)
                .json(&serde_json::json!({"name": "evil", "namespace": "default", "service_account": "x"}));
            let status = request.send().await.unwrap().status();
            assert_eq!(status, 403, "{method} {path} with a session's bearer");
        }
    }
    // A SigV4 signature by the session is no admin credential either.
    let sigv4_probe = http
        .get(url("/audit"))
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20261122/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
                session.access_key_id()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sigv4_probe.status(), 403);
    // The cluster and the role are still there: nothing above changed anything.
    common::iam(&emulator)
        .get_role()
        .role_name("admin-probe")
        .send()
        .await
        .expect("no reset happened");
    let clusters = http
        .get(url("/clusters"))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = clusters.json().await.unwrap();
    assert_eq!(body["clusters"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test]
async fn tokens_of_a_deleted_cluster_stop_verifying() {
    let emulator = common::start().await;
    // Verifies once (and caches the cluster's key on the way).
    common::session_credentials(&emulator, "gone", "gone-role").await;
    let token = common::mint_token(&emulator, "gone", "default", "app").await;
    let deleted = common::http_client(&emulator)
        .delete(format!("{}/_emulator/clusters/gone", emulator.url()))
        .bearer_auth(config::DEFAULT_ADMIN_SECRET_ACCESS_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let sts = aws_sdk_sts::Client::new(&common::sdk_config(&emulator));
    let err = sts
        .assume_role_with_web_identity()
        .role_arn(format!(
            "arn:aws:iam::{}:role/gone-role",
            config::DEFAULT_ACCOUNT_ID
        ))
        .role_session_name("late")
        .web_identity_token(token)
        .send()
        .await
        .expect_err("a deleted cluster's token must not verify");
    let code = err.into_service_error().meta().code().map(str::to_string);
    assert!(
        matches!(
            code.as_deref(),
            Some("IDPCommunicationError") | Some("InvalidIdentityToken")
        ),
        "{code:?}"
    );
}
