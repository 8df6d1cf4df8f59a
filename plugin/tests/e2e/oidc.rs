//! `oidc associate` and `oidc show`, and the audiences a provider must list.

use crate::common::{self, env};
use crate::{annotations, assert_problem, default_role, describe, role};
use irsa_names::STS_AUDIENCE;
use irsa_policy::irsa_trust_policy;
use rustls_pki_types::pem::PemObject;

#[test]
fn oidc_associate_is_idempotent_and_uses_the_ca_thumbprint() {
    let Some((env, _guard)) = env() else { return };
    // The environment associated the provider with `oidc associate --cluster test-cluster`.
    let provider = env
        .block_on(env.aws.get_provider(&env.provider_arn()))
        .unwrap()
        .expect("provider created by oidc associate");
    assert!(provider.client_ids.contains(&STS_AUDIENCE.to_string()));
    // The emulator's server sends only its leaf certificate; the top of the chain is its CA (AWS_CA_BUNDLE).
    let ca_der =
        rustls_pki_types::CertificateDer::from_pem_slice(env.emulator.ca_pem().unwrap().as_bytes())
            .unwrap();
    assert_eq!(
        provider.thumbprints,
        vec![kubectl_irsa::thumbprint::sha1_hex(&ca_der)]
    );
    assert!(provider
        .tags
        .contains(&("managed-by".to_string(), "kubectl-irsa".to_string())));

    // Again: nothing to do, from EKS or from the API server's discovery document.
    for args in [
        vec!["oidc", "associate", "--cluster", "test-cluster"],
        vec!["oidc", "associate"],
    ] {
        let out = env.ok(&args);
        assert!(out.contains("up to date, nothing to change"), "{out}");
    }
    let after = env
        .block_on(env.aws.get_provider(&env.provider_arn()))
        .unwrap();
    assert_eq!(after.as_ref(), Some(&provider));

    let shown = env.run(&["oidc", "show", "-o", "json"]).json();
    assert_eq!(shown["issuer"], env.issuer.as_str());
    assert_eq!(shown["provider"]["arn"], env.provider_arn().as_str());

    // Another cluster: the plan shows the provider it would create and --dry-run creates nothing.
    let other = env.block_on(common::create_cluster(&env.emulator, "other-cluster"));
    let out = env.ok(&[
        "oidc",
        "associate",
        "--cluster",
        "other-cluster",
        "--dry-run",
    ]);
    assert!(
        out.contains(&format!("create IAM OIDC provider for {}", other.issuer)),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was changed"), "{out}");
    let arns = env.block_on(env.aws.provider_arns()).unwrap();
    assert_eq!(arns, vec![env.provider_arn()], "dry run created nothing");
    let shown = env.ok(&["oidc", "show", "--cluster", "other-cluster"]);
    assert!(
        shown.contains("kubectl irsa oidc associate --cluster other-cluster"),
        "{shown}"
    );
}

#[test]
fn a_custom_audience_needs_the_provider_to_list_it() {
    let Some((env, _guard)) = env() else { return };
    let (ns, name, audience) = ("aud", "app", "custom.example.com");
    let run = env.run(&["create", "--name", name, "-n", ns, "--audience", audience]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("does not list audience \"custom.example.com\""),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("kubectl irsa oidc associate --audience custom.example.com"),
        "{run}"
    );

    let out = env.ok(&[
        "oidc",
        "associate",
        "--audience",
        STS_AUDIENCE,
        "--audience",
        audience,
    ]);
    assert!(out.contains("add client ID custom.example.com"), "{out}");
    let policy = env.create_policy("aud-read", "s3:GetObject");
    env.ok(&[
        "create",
        "--name",
        name,
        "-n",
        ns,
        "--audience",
        audience,
        "--attach-policy-arn",
        &policy,
    ]);
    let sa = env.service_account(ns, name).unwrap();
    assert_eq!(annotations(&sa)["eks.amazonaws.com/audience"], audience);
    let role_name = default_role(ns, name);
    assert_eq!(
        role(env, &role_name).unwrap().trust,
        irsa_trust_policy(&env.aws_account(), &env.issuer, ns, name, audience, None)
    );
    assert_eq!(describe(env, ns, name).code, 0);

    // The provider forgets the audience: describe names it and the fix.
    env.block_on(env.aws.remove_client_id(&env.provider_arn(), audience))
        .unwrap();
    assert_problem(
        env,
        ns,
        name,
        &[
            "does not list audience custom.example.com",
            "--audience custom.example.com",
        ],
    );
    env.ok(&["delete", "--name", name, "-n", ns]);
}
