//! The pod chain broken one link at a time; each names the link.

use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;
use serde_json::json;

use super::*;
use crate::aws::{Provider, Role};
use crate::doctor::pod_spec::{ContainerFacts, TokenVolume};

const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
const ACCOUNT: &str = "111122223333";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/app";

fn healthy() -> PodChainFacts {
    let trust = irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        ISSUER,
        "shop",
        "app",
        STS_AUDIENCE,
        None,
    );
    PodChainFacts {
        namespace: "shop".into(),
        pod: PodSpecFacts {
            name: "app-1".into(),
            uid: "u".into(),
            service_account: "app".into(),
            containers: vec![ContainerFacts {
                name: "main".into(),
                role_arn: Some(ROLE_ARN.into()),
                token_file: Some("/var/run/secrets/eks.amazonaws.com/serviceaccount/token".into()),
                mounted: true,
                skipped: false,
                pod_identity: false,
            }],
            volume: Some(TokenVolume {
                audience: Some(STS_AUDIENCE.into()),
                expiration_seconds: Some(86400),
                path: "token".into(),
            }),
            pod_identity_spec: Default::default(),
        },
        sa_annotations: Some(BTreeMap::from([(
            ROLE_ARN_ANNOTATION.into(),
            ROLE_ARN.into(),
        )])),
        issuer: Ok(ISSUER.into()),
        token: Ok(Claims {
            iss: ISSUER.into(),
            sub: "system:serviceaccount:shop:app".into(),
            aud: vec![STS_AUDIENCE.into()],
            exp: 86400,
            iat: 0,
            kubernetes: json!({ "pod": { "name": "app-1", "uid": "u" } }),
        }),
        provider: ProviderFacts::Found(Provider {
            arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
            url: "127.0.0.1:8443/id/ABC".into(),
            client_ids: vec![STS_AUDIENCE.into()],
            thumbprints: vec!["ab".repeat(20)],
            tags: vec![],
        }),
        live_thumbprint: Some(Ok("ab".repeat(20))),
        role: RoleFacts::Found {
            role: Box::new(Role {
                name: "app".into(),
                arn: ROLE_ARN.into(),
                path: "/".into(),
                trust,
                max_session_duration: None,
                permissions_boundary: None,
                tags: vec![],
            }),
            attached: vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into()],
            missing_policies: vec![],
            inline: vec![],
        },
        documents: vec![(
            "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into(),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*"}]}),
        )],
        boundary: None,
        simulate: Some(("s3:GetObject".into(), "arn:aws:s3:::bucket/key".into())),
        pod_identity: None,
    }
}

#[test]
fn a_healthy_pod_passes_every_link_and_simulates() {
    let d = diagnose_pod(&healthy());
    assert_eq!(d.failing_link, None, "{}", render_pod(&d));
    let names: Vec<&str> = d.links.iter().map(|c| c.check).collect();
    assert_eq!(
        names,
        [
            "annotation",
            "pod-spec",
            "token",
            "oidc-provider",
            "oidc-provider",
            "role",
            "trust",
            "policies",
            "simulation"
        ]
    );
    assert!(d.simulation.as_ref().unwrap().allowed);
    assert!(render_pod(&d)
        .contains("decided by arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess statement 0"));
}

#[test]
fn each_broken_link_is_the_one_named() {
    let mut f = healthy();
    f.pod.volume = None;
    assert_eq!(diagnose_pod(&f).failing_link, Some("pod-spec"));

    let mut f = healthy();
    f.pod.volume.as_mut().unwrap().audience = Some("vault".into());
    let d = diagnose_pod(&f);
    assert_eq!(d.failing_link, Some("pod-spec"));
    assert!(
        d.links[1].message.contains("audience is \"vault\""),
        "{}",
        d.links[1].message
    );

    let mut f = healthy();
    f.token = Ok(Claims {
        iss: "https://elsewhere/id/X".into(),
        ..f.token.clone().unwrap()
    });
    assert_eq!(diagnose_pod(&f).failing_link, Some("token"));

    let mut f = healthy();
    f.provider = ProviderFacts::Missing {
        arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
    };
    assert_eq!(diagnose_pod(&f).failing_link, Some("oidc-provider"));

    let mut f = healthy();
    if let RoleFacts::Found { role, .. } = &mut f.role {
        role.trust = irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER,
            "shop",
            "other",
            STS_AUDIENCE,
            None,
        );
    }
    let d = diagnose_pod(&f);
    assert_eq!(d.failing_link, Some("trust"));
    assert!(d.links.iter().any(|c| c
        .message
        .contains("token has system:serviceaccount:shop:app")));

    let mut f = healthy();
    f.simulate = Some(("s3:PutObject".into(), "arn:aws:s3:::bucket/key".into()));
    let d = diagnose_pod(&f);
    assert_eq!(d.failing_link, Some("simulation"));
    assert_eq!(d.simulation.unwrap().decision, "implicit deny");

    let mut f = healthy();
    f.live_thumbprint = Some(Ok("cd".repeat(20)));
    assert_eq!(diagnose_pod(&f).verdict, Verdict::Warnings);
}

#[test]
fn pod_identity_is_recognised_not_misjudged() {
    let mut f = healthy();
    f.pod.volume = None;
    f.pod.containers[0].role_arn = None;
    f.pod.containers[0].pod_identity = true;
    let d = diagnose_pod(&f);
    assert_eq!(d.binding, Binding::PodIdentity);
    assert_eq!(d.failing_link, None);
    assert_eq!(d.links[0].status, Status::Skipped);
}
