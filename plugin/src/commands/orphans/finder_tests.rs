use irsa_policy::irsa_trust_policy;
use serde_json::Value;

use super::*;

const ACCOUNT: &str = "111122223333";
const ISSUER: &str = "https://127.0.0.1:8443/id/ABC";
const OTHER: &str = "https://127.0.0.1:8443/id/OTHER";

fn role(name: &str, trust: Value, managed: bool) -> AccountRole {
    AccountRole {
        role: ListedRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust,
        },
        managed,
    }
}

fn sa(ns: &str, name: &str, role: Option<&str>) -> Account {
    Account {
        namespace: ns.into(),
        name: name.into(),
        annotations: role
            .map(|r| {
                BTreeMap::from([(
                    ROLE_ARN_ANNOTATION.to_string(),
                    format!("arn:aws:iam::{ACCOUNT}:role/{r}"),
                )])
            })
            .unwrap_or_default(),
    }
}

fn trust(issuer: &str, ns: &str, name: &str) -> Value {
    irsa_trust_policy(
        &irsa_policy::Account::aws(ACCOUNT),
        issuer,
        ns,
        name,
        STS_AUDIENCE,
        None,
    )
}

#[test]
fn dead_bindings_on_both_sides_are_found_and_live_ones_left() {
    let roles = [
        role("live", trust(ISSUER, "shop", "live"), true),
        role("gone-sa", trust(ISSUER, "shop", "gone"), true),
        role("reannotated", trust(ISSUER, "shop", "moved"), true),
        role("not-ours", trust(ISSUER, "shop", "nobody"), false),
        role("other-cluster", trust(OTHER, "shop", "x"), true),
        role("stale-trust", trust(ISSUER, "shop", "someone-else"), true),
    ];
    let accounts = [
        sa("shop", "live", Some("live")),
        sa("shop", "moved", Some("live")),
        sa("shop", "lost", Some("deleted-role")),
        sa("shop", "denied", Some("stale-trust")),
        sa("shop", "plain", None),
    ];
    let provider = irsa_policy::Account::aws(ACCOUNT).provider_arn(ISSUER);
    let found = find(&provider, ACCOUNT, &roles, &accounts, None);
    let roles: Vec<&str> = found.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["gone-sa", "reannotated", "stale-trust"]);
    assert_eq!(found.roles[0].subjects, ["system:serviceaccount:shop:gone"]);
    let sas: Vec<(&str, &str)> = found
        .service_accounts
        .iter()
        .map(|s| (s.name.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        sas,
        [
            ("moved", "the trust policy of role live no longer admits system:serviceaccount:shop:moved"),
            ("lost", "role deleted-role does not exist"),
            ("denied", "the trust policy of role stale-trust no longer admits system:serviceaccount:shop:denied"),
        ]
    );
    let other_ns = find(
        &provider,
        ACCOUNT,
        &[role("gone-sa", trust(ISSUER, "shop", "gone"), true)],
        &[],
        Some("web"),
    );
    assert!(
        other_ns.is_empty(),
        "a role of another namespace is out of scope"
    );
}
