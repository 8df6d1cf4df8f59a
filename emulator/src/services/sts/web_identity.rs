//! AssumeRoleWithWebIdentity, the IRSA call: verify the token, decide with the role's trust policy, issue
//! credentials. The hot path of the emulator: at most one store read (provider and role together, on the
//! blocking pool, remembered until the next write), cached keys and trust policies, the token decoded once.

use irsa_policy::evaluate;

use super::assume::{duration, not_authorized, role_name, session_name, session_policy, Grant};
use super::lookups::Wanted;
use super::token::UnverifiedToken;
use super::Sts;
use crate::audit::{Decision, Entry};
use crate::protocol::{AwsError, Params, XmlWriter};
use crate::services::iam::Handled;

const ACTION: &str = "AssumeRoleWithWebIdentity";

pub async fn assume_role_with_web_identity(sts: &Sts, params: &Params) -> Handled {
    let role_arn = params.required("RoleArn")?.to_string();
    let session = session_name(params)?;
    let web_token = params.required("WebIdentityToken")?;
    if !(4..=20000).contains(&web_token.len()) {
        return Err(AwsError::constraint(
            "WebIdentityToken",
            "***",
            "Member must have length between 4 and 20000",
        ));
    }
    let policy = session_policy(params, sts.account().partition())?;
    let audit_deny = |caller: &str, err: &AwsError, explanation: String| {
        sts.audit.record(Entry {
            caller,
            action: "sts:AssumeRoleWithWebIdentity",
            role: Some(&role_arn),
            decision: Decision::Deny,
            code: Some(err.code),
            explanation,
        });
    };
    let unverified = |err: AwsError| {
        audit_deny("(unverified web identity)", &err, err.message.clone());
        err
    };

    let token = UnverifiedToken::decode(web_token).map_err(unverified)?;
    // The role is read with the provider, before the token is verified, to take the store once; its errors
    // still come after the token's, as STS reports them.
    let role_name = role_name(&role_arn);
    let wanted = Wanted {
        provider_arn: sts.provider_arn(&token),
        role: role_name.clone().ok().map(|name| (name, role_arn.clone())),
    };
    let found = sts
        .lookups
        .find(&sts.store, wanted)
        .await
        .map_err(unverified)?;
    let (verified, provider) = sts
        .verify_token(token, found.provider.as_ref())
        .await
        .map_err(unverified)?;

    // The ARN's own errors come after the token's, as STS reports them.
    role_name?;
    let Some(role) = &found.role else {
        let err = not_authorized(ACTION);
        audit_deny(
            &verified.subject,
            &err,
            format!(
                "role {role_arn} does not exist in account {}",
                sts.account_id()
            ),
        );
        return Err(err);
    };
    let trust = sts.trust.of(role)?;
    let provider_key = &provider.url;
    let ctx =
        irsa_policy::web_identity_context(&provider.arn, &verified.subject, &verified.audience)
            .with_key(format!("{provider_key}:amr"), "authenticated")
            .with_key("sts:RoleSessionName", &session);
    let evaluation = evaluate(&[&*trust], &ctx);
    if !evaluation.is_allowed() {
        let err = not_authorized(ACTION);
        audit_deny(
            &verified.subject,
            &err,
            format!("trust policy of {}: {}", role.name, evaluation.explain()),
        );
        return Err(err);
    }
    let seconds = duration(params, role, 3600, false)?;
    let grant = Grant {
        caller: &verified.subject,
        action: "sts:AssumeRoleWithWebIdentity",
        role,
        session: &session,
        seconds,
        policy,
        explanation: evaluation.explain(),
        tags: Default::default(),
    };
    let mut xml = XmlWriter::new();
    grant.issue(sts, &mut xml, |xml| {
        xml.text_element("SubjectFromWebIdentityToken", &verified.subject);
    });
    xml.text_element("Provider", &provider.arn)
        .text_element("Audience", &verified.audience);
    Ok(Some(xml))
}
