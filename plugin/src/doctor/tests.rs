use super::*;
use irsa_names::{ROLE_ARN_ANNOTATION, STS_AUDIENCE};
use irsa_policy::irsa_trust_policy;

const ISSUER: &str = "https://oidc.example.com/id/ABC";
const ACCOUNT: &str = "111122223333";
const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/r";

fn role(trust: Value) -> Role {
    Role {
        name: "r".into(),
        arn: ROLE_ARN.into(),
        path: "/".into(),
        trust,
        max_session_duration: Some(3600),
        permissions_boundary: None,
        tags: vec![("managed-by".into(), "kubectl-irsa".into())],
    }
}

fn healthy() -> Facts {
    Facts {
        sa: SaFacts {
            namespace: "shop".into(),
            name: "app".into(),
            annotations: BTreeMap::from([(ROLE_ARN_ANNOTATION.into(), ROLE_ARN.into())]),
            managed: true,
        },
        issuer: Ok(ISSUER.into()),
        role: RoleFacts::Found {
            role: Box::new(role(irsa_trust_policy(
                &irsa_policy::Account::aws(ACCOUNT),
                ISSUER,
                "shop",
                "app",
                STS_AUDIENCE,
                None,
            ))),
            attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            missing_policies: vec![],
            inline: vec![],
        },
        provider: ProviderFacts::Found(Provider {
            arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
            url: "oidc.example.com/id/ABC".into(),
            client_ids: vec![STS_AUDIENCE.into()],
            thumbprints: vec![],
            tags: vec![],
        }),
        pods: vec![PodFacts {
            name: "p".into(),
            has_volume: true,
            containers_missing_env: vec![],
            role_arn_env: Some(ROLE_ARN.into()),
            skipped: false,
        }],
        documents: vec![],
    }
}

fn problems(d: &Diagnosis) -> Vec<&str> {
    d.checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .map(|c| c.short.as_str())
        .collect()
}

#[test]
fn healthy_binding_is_ok() {
    let d = diagnose(&healthy());
    assert_eq!(d.verdict, Verdict::Ok, "{}", render(&d));
    assert_eq!(d.status(), "OK");
    assert!(render(&d).contains("Verdict: OK"));
}

#[test]
fn wrong_subject_is_explained() {
    let mut f = healthy();
    f.role = RoleFacts::Found {
        role: Box::new(role(irsa_trust_policy(
            &irsa_policy::Account::aws(ACCOUNT),
            ISSUER,
            "shop",
            "other",
            STS_AUDIENCE,
            None,
        ))),
        attached: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
        missing_policies: vec![],
        inline: vec![],
    };
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["trust denies"]);
    let text = render(&d);
    assert!(
        text.contains(
            "wanted system:serviceaccount:shop:other, token has system:serviceaccount:shop:app"
        ),
        "{text}"
    );
    assert!(text.contains("--add-trust"));
    assert_eq!(d.status(), "trust denies");
}

#[test]
fn each_break_is_named_with_a_fix() {
    let mut f = healthy();
    f.provider = ProviderFacts::Missing {
        arn: irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER),
    };
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["no OIDC provider"]);
    assert!(render(&d).contains("kubectl irsa oidc associate"));

    let mut f = healthy();
    f.role = RoleFacts::Missing;
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["role not found"]);

    let mut f = healthy();
    if let RoleFacts::Found { attached, .. } = &mut f.role {
        attached.clear();
    }
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["no policies"]);

    let mut f = healthy();
    f.sa.annotations = BTreeMap::from([("eks.amazonaws.com/role-anr".into(), ROLE_ARN.into())]);
    f.role = RoleFacts::NotChecked;
    let d = diagnose(&f);
    assert!(problems(&d).contains(&"annotation key typo"));
    assert!(render(&d).contains("eks.amazonaws.com/role-anr-"));

    let mut f = healthy();
    f.sa.annotations = BTreeMap::from([(
        ROLE_ARN_ANNOTATION.into(),
        "arn:aws:iam::111122223333:rol/r".into(),
    )]);
    f.role = RoleFacts::NotChecked;
    let d = diagnose(&f);
    assert!(problems(&d).contains(&"annotation is not a role ARN"));

    let mut f = healthy();
    f.pods[0].has_volume = false;
    f.pods[0].containers_missing_env = vec!["app".into()];
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["pod not mutated"]);

    let mut f = healthy();
    if let ProviderFacts::Found(p) = &mut f.provider {
        p.client_ids = vec!["other".into()];
    }
    let d = diagnose(&f);
    assert_eq!(problems(&d), vec!["audience not allowed"]);
}

#[test]
fn typo_detection() {
    assert!(looks_like_role_arn_key("eks.amazonaws.com/role-anr"));
    assert!(looks_like_role_arn_key("eks.amazon.com/role-arn"));
    assert!(looks_like_role_arn_key("eks.amazonaws.com/rolearn"));
    assert!(!looks_like_role_arn_key(ROLE_ARN_ANNOTATION));
    assert!(!looks_like_role_arn_key("eks.amazonaws.com/audience"));
    assert!(!looks_like_role_arn_key(
        "kubectl.kubernetes.io/last-applied-configuration"
    ));
}

#[test]
fn internal_issuers_warn() {
    let mut f = healthy();
    f.issuer = Ok("https://kubernetes.default.svc".into());
    let d = diagnose(&f);
    assert!(d.checks.iter().any(|c| c.short == "issuer not public"));
}
