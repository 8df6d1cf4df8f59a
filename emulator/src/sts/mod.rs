//! STS over the Query protocol: web identity federation (the IRSA call), role chaining, session tokens and
//! caller identity. Every decision is audited; denials say why.

mod assume;
pub mod token;

use axum::http::StatusCode;

use crate::app::AppState;
use crate::auth::{Caller, IssuedCredentials};
use crate::error::AwsError;
use crate::iam::render;
use crate::iam::Handled;
use crate::query::Params;
use crate::xml::XmlWriter;

/// Actions AWS accepts without a signature.
pub fn is_unsigned(action: &str) -> bool {
    action == "AssumeRoleWithWebIdentity"
}

pub async fn dispatch(
    state: &AppState,
    caller: Option<&Caller>,
    action: &str,
    params: &Params,
) -> Handled {
    match (action, caller) {
        ("AssumeRoleWithWebIdentity", _) => assume::with_web_identity(state, params).await,
        ("GetCallerIdentity", Some(caller)) => get_caller_identity(state, caller),
        ("AssumeRole", Some(caller)) => assume::assume_role(state, caller, params),
        ("GetSessionToken", Some(caller)) => assume::get_session_token(state, caller, params),
        (_, None) => Err(crate::auth::missing_authentication()),
        _ => Err(AwsError::new(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

fn get_caller_identity(state: &AppState, caller: &Caller) -> Handled {
    let mut xml = XmlWriter::new();
    xml.text_element("Arn", &caller.arn(state.account_id()))
        .text_element("UserId", &caller.user_id())
        .text_element("Account", state.account_id());
    Ok(Some(xml))
}

pub fn render_credentials(xml: &mut XmlWriter, creds: &IssuedCredentials) {
    xml.open("Credentials")
        .text_element("AccessKeyId", &creds.access_key_id)
        .text_element("SecretAccessKey", &creds.secret_access_key)
        .text_element("SessionToken", &creds.session_token)
        .text_element("Expiration", &render::date(&creds.expiration))
        .close("Credentials");
}
