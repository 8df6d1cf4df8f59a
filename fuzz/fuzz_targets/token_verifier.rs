//! STS's web identity token verification (`AssumeRoleWithWebIdentity`) on arbitrary token strings, against an
//! emulator with one cluster whose key is fixed (`fuzz/keys/token-signing-key.pem`) registered as an OIDC
//! provider with client id `sts.amazonaws.com`.
//!
//! Checks: no panic, and no token is ever accepted but the ones this harness signed (the seeds in
//! `corpus/token_verifier` are those tokens and near misses of them, written by running the target with
//! `IRSA_FUZZ_WRITE_SEEDS=DIR`).
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use irsa_emulator::fuzzing::{TokenVerifier, TOKEN_AUDIENCE};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

const SIGNING_KEY: &str = include_str!("../keys/token-signing-key.pem");

struct Harness {
    verifier: TokenVerifier,
    /// Every token the harness signed that verifies; nothing else may.
    signed: Vec<String>,
}

/// Claims as kube-apiserver writes them, with fixed times (valid until 2100) so that tokens are reproducible.
fn claims(issuer: &str, audience: serde_json::Value) -> serde_json::Value {
    json!({
        "aud": audience,
        "exp": 4102444800i64,
        "iat": 1700000000,
        "iss": issuer,
        "jti": "6a8a3b9e-8d0e-4a55-9d5f-2f7f6a3c1d00",
        "kubernetes.io": {
            "namespace": "default",
            "serviceaccount": { "name": "app", "uid": "0d2b1c4e-1111-4c3a-9d59-6a9a4a3e2f00" },
        },
        "nbf": 1700000000,
        "sub": "system:serviceaccount:default:app",
    })
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let verifier = TokenVerifier::new(SIGNING_KEY).expect("harness state");
    let issuer = verifier.issuer().to_string();
    let mut signed: Vec<String> = [
        json!([TOKEN_AUDIENCE]),
        json!(TOKEN_AUDIENCE),
        json!(["other", TOKEN_AUDIENCE]),
    ]
    .into_iter()
    .map(|aud| verifier.sign(&claims(&issuer, aud)).expect("signs"))
    .collect();
    // Also valid: a header with `typ` (kube-apiserver omits it; other issuers write it).
    let typ = json!({ "alg": "RS256", "kid": verifier.kid(), "typ": "JWT" });
    signed.push(genuine(
        &verifier,
        &typ,
        &claims(&issuer, json!([TOKEN_AUDIENCE])),
    ));
    for token in &signed {
        let verified = verifier
            .verify(token)
            .unwrap_or_else(|e| panic!("the harness's own token does not verify: {e:?}"));
        assert_eq!(verified.subject, "system:serviceaccount:default:app");
        assert_eq!(verified.audience, TOKEN_AUDIENCE);
    }
    if let Some(dir) = std::env::var_os("IRSA_FUZZ_WRITE_SEEDS") {
        write_seeds(&verifier, &signed, std::path::Path::new(&dir));
    }
    Harness { verifier, signed }
});

/// A token with this header and these claims, genuinely signed with the cluster's key.
fn genuine(
    verifier: &TokenVerifier,
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = verifier.signature(&input).expect("signs");
    format!("{input}.{signature}")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `IRSA_FUZZ_WRITE_SEEDS=DIR`: writes the seed corpus (the signed tokens, and near misses of them) to DIR.
fn write_seeds(verifier: &TokenVerifier, signed: &[String], dir: &std::path::Path) {
    let issuer = verifier.issuer();
    let kid = verifier.kid();
    let rs256 = json!({ "alg": "RS256", "kid": kid });
    let genuine =
        |header: &serde_json::Value, claims: &serde_json::Value| genuine(verifier, header, claims);
    let valid = claims(issuer, json!([TOKEN_AUDIENCE]));
    let with = |key: &str, value: serde_json::Value| {
        let mut c = valid.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = valid.clone();
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let (header, payload, signature) = {
        let mut parts = signed[0].split('.');
        (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        )
    };
    let mut seeds: Vec<(&str, String)> = vec![
        ("valid-aud-list", signed[0].clone()),
        ("valid-aud-string", signed[1].clone()),
        ("valid-aud-second", signed[2].clone()),
        ("expired", genuine(&rs256, &with("exp", json!(1700000600)))),
        (
            "not-yet-valid",
            genuine(&rs256, &with("nbf", json!(4000000000i64))),
        ),
        (
            "wrong-audience",
            genuine(&rs256, &with("aud", json!(["other"]))),
        ),
        ("audience-number", genuine(&rs256, &with("aud", json!(7)))),
        ("no-sub", genuine(&rs256, &without("sub"))),
        ("no-exp", genuine(&rs256, &without("exp"))),
        (
            "unregistered-issuer",
            genuine(&rs256, &with("iss", json!("https://oidc.example.com/id/X"))),
        ),
        (
            "issuer-trailing-slash",
            genuine(&rs256, &with("iss", json!(format!("{issuer}/")))),
        ),
        (
            "issuer-no-scheme",
            genuine(
                &rs256,
                &with("iss", json!(issuer.trim_start_matches("https://"))),
            ),
        ),
        (
            "unknown-kid",
            genuine(&json!({ "alg": "RS256", "kid": "other" }), &valid),
        ),
        ("no-kid", genuine(&json!({ "alg": "RS256" }), &valid)),
        ("valid-typ-jwt", signed[3].clone()),
        (
            "ps256-header",
            genuine(&json!({ "alg": "PS256", "kid": kid }), &valid),
        ),
        (
            "es256-header",
            genuine(&json!({ "alg": "ES256", "kid": kid }), &valid),
        ),
        (
            "alg-none",
            format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"x"}"#)),
        ),
        (
            "alg-hs256",
            format!(
                "{}.{payload}.{signature}",
                b64(format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#).as_bytes())
            ),
        ),
        (
            "tampered-subject",
            format!(
                "{header}.{}.{signature}",
                b64(
                    with("sub", json!("system:serviceaccount:kube-system:admin"))
                        .to_string()
                        .as_bytes()
                )
            ),
        ),
        ("no-signature", format!("{header}.{payload}.")),
        ("two-parts", format!("{header}.{payload}")),
        ("four-parts", format!("{}.x", signed[0])),
        ("padded", format!("{header}=.{payload}=.{signature}")),
    ];
    seeds.push(("empty", String::new()));
    std::fs::create_dir_all(dir).expect("seed dir");
    for (name, token) in seeds {
        std::fs::write(dir.join(name), token).expect("writes a seed");
    }
}

fuzz_target!(|data: &[u8]| {
    // STS reads the token from a form parameter: always a string.
    let token = String::from_utf8_lossy(data);
    let harness = &*HARNESS;
    if let Ok(verified) = harness.verifier.verify(&token) {
        assert!(
            harness.signed.iter().any(|t| *t == token),
            "accepted a token the harness did not sign: {token:?} ({verified:?})"
        );
    }
});
