//! AWS throttling is retried with backoff: a fake IAM endpoint answers `Throttling` a few times before
//! succeeding, and the plugin (the real binary, AWS_ENDPOINT_URL pointing at the fake) gets through.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const THROTTLED: &str = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>00000000-0000-0000-0000-000000000001</RequestId></ErrorResponse>"#;
const EMPTY_LIST: &str = r#"<ListOpenIDConnectProvidersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOpenIDConnectProvidersResult><OpenIDConnectProviderList/></ListOpenIDConnectProvidersResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000002</RequestId></ResponseMetadata></ListOpenIDConnectProvidersResponse>"#;

/// An HTTP endpoint that throttles the first `throttle` requests and then answers with an empty
/// ListOpenIDConnectProviders. Returns its URL and the request counter.
fn fake_iam(throttle: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let (status, payload) = if n < throttle {
                ("400 Bad Request", THROTTLED)
            } else {
                ("200 OK", EMPTY_LIST)
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    (url, count)
}

fn run(url: &str) -> common::Run {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(common::plugin_bin());
    common::isolate(&mut cmd, home.path());
    let args = [
        "oidc",
        "show",
        "--oidc-issuer",
        "https://oidc.example.com/id/X",
    ];
    let out = cmd
        .env("AWS_ENDPOINT_URL", url)
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_REGION", "us-east-1")
        .args(args)
        .output()
        .unwrap();
    common::Run::new(&args, out)
}

#[test]
fn throttled_calls_are_retried_until_they_succeed() {
    let (url, count) = fake_iam(2);
    let run = run(&url);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("Provider ARN:    <none>"), "{run}");
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "two throttled attempts, then success"
    );
}

#[test]
fn persistent_throttling_gives_up_with_the_aws_error() {
    let (url, count) = fake_iam(usize::MAX);
    let run = run(&url);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("AWS iam:ListOpenIDConnectProviders failed: Rate exceeded"),
        "{run}"
    );
    assert_eq!(
        count.load(Ordering::SeqCst),
        kubectl_irsa::commands::DEFAULT_AWS_ATTEMPTS as usize
    );
}
