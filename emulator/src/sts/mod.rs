//! STS over the Query protocol. GetCallerIdentity for now; web identity federation is its own issue.

use axum::http::StatusCode;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::AwsError;
use crate::iam::Handled;
use crate::query::Params;
use crate::xml::XmlWriter;

/// The admin credentials act as an IAM user of the emulated account.
pub const ADMIN_USER_NAME: &str = "irsa-emulator-admin";
pub const ADMIN_USER_ID: &str = "AIDAIRSAEMULATORADMIN";

pub fn dispatch(state: &AppState, caller: &Caller, action: &str, _params: &Params) -> Handled {
    match action {
        "GetCallerIdentity" => get_caller_identity(state, caller),
        _ => Err(AwsError::new(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            format!("Could not find operation {action} for version 2011-06-15"),
        )),
    }
}

fn get_caller_identity(state: &AppState, caller: &Caller) -> Handled {
    let (arn, user_id) = match caller {
        Caller::Admin => (
            format!("arn:aws:iam::{}:user/{ADMIN_USER_NAME}", state.account_id()),
            ADMIN_USER_ID.to_string(),
        ),
    };
    let mut xml = XmlWriter::new();
    xml.text_element("Arn", &arn)
        .text_element("UserId", &user_id)
        .text_element("Account", state.account_id());
    Ok(Some(xml))
}
