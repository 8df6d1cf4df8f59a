//! irsa-policy on arbitrary bytes: parse, validate as a trust and as an identity policy, and evaluate and
//! explain against requests built from the document's own actions, resources, principals and condition
//! values (so that statements match and conditions are really compared), plus the IRSA web-identity request.
//!
//! Checks, beyond "no panic, no hang": a parsed document's JSON parses to the same document; evaluation is
//! deterministic; evaluating a list of the same document twice decides as evaluating it once, with every match
//! found twice; flipping every statement to `Deny` matches the same statements and so denies explicitly
//! exactly when something matched.
#![no_main]

use irsa_policy::{
    evaluate, trust_admits, validate_document, web_identity_context, Decision, DocumentKind,
    Effect, PolicyDocument, Principal, RequestContext,
};
use libfuzzer_sys::fuzz_target;

const PROVIDER: &str =
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE";
const SUBJECT: &str = "system:serviceaccount:default:app";
const AUDIENCE: &str = "sts.amazonaws.com";

/// A concrete string a glob matches (wildcards filled in).
fn instance(glob: &str) -> String {
    glob.replace('*', "x").replace('?', "y")
}

fn contexts(doc: &PolicyDocument) -> Vec<RequestContext> {
    let mut out = vec![
        web_identity_context(PROVIDER, SUBJECT, AUDIENCE),
        RequestContext::new("sts:AssumeRoleWithWebIdentity"),
    ];
    for st in doc.statements.iter().take(8) {
        let actions = st.action.as_ref().or(st.not_action.as_ref());
        let action = actions
            .and_then(|a| a.first())
            .map(|a| instance(a))
            .unwrap_or_else(|| "sts:AssumeRole".to_string());
        let mut ctx = RequestContext::new(action);
        if let Some(resource) = st.resource.as_ref().and_then(|r| r.first()) {
            ctx = ctx.with_resource(instance(resource));
        }
        if let Some(Principal::Named(entries)) = st.principal.as_ref() {
            if let Some(entry) = entries.first() {
                ctx = ctx.with_principal(entry.clone());
            }
        }
        for condition in st.conditions.iter().take(8) {
            ctx = ctx.with_key_values(
                &condition.key,
                condition.values.iter().take(4).map(|v| instance(v)),
            );
        }
        out.push(ctx.clone());
        // The same request without its condition keys: absent keys take the other branches.
        ctx.keys.clear();
        out.push(ctx);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let doc = match PolicyDocument::parse(json) {
        Ok(doc) => doc,
        Err(e) => {
            let _ = (e.message(), e.code(), e.detail(), e.to_string());
            return;
        }
    };
    for kind in [DocumentKind::Trust, DocumentKind::Managed, DocumentKind::Inline] {
        if let Err(e) = validate_document(&doc, kind) {
            let _ = (e.message(), e.code(), e.detail());
        }
    }
    let again =
        PolicyDocument::parse(&doc.to_json_string()).expect("a parsed document's own JSON parses");
    assert_eq!(again, doc);
    let _ = doc.federated_principals();

    let mut flipped = doc.clone();
    for st in &mut flipped.statements {
        st.effect = Effect::Deny;
    }

    let admitted = trust_admits(&doc, PROVIDER, SUBJECT, AUDIENCE);
    let _ = admitted.explain();

    for ctx in contexts(&doc) {
        let once = evaluate(&[&doc], &ctx);
        let _ = once.explain();
        assert_eq!(
            once,
            evaluate(&[&doc], &ctx),
            "evaluation is not deterministic"
        );

        let twice = evaluate(&[&doc, &doc], &ctx);
        let _ = twice.explain();
        assert_eq!(twice.decision, once.decision);
        assert_eq!(twice.matched.len(), 2 * once.matched.len());
        assert_eq!(twice.near_misses.len(), 2 * once.near_misses.len());

        let denied = evaluate(&[&flipped], &ctx);
        let _ = denied.explain();
        let indices = |e: &irsa_policy::Evaluation| {
            e.matched
                .iter()
                .map(|m| m.statement_index)
                .collect::<Vec<_>>()
        };
        assert_eq!(indices(&denied), indices(&once));
        let expected = if once.matched.is_empty() {
            Decision::ImplicitDeny
        } else {
            Decision::ExplicitDeny
        };
        assert_eq!(denied.decision, expected);
        assert!(denied.near_misses.is_empty());
    }
});
