//! The REST-JSON protocol's errors (EKS, and the emulator's own API, which answers the same way).

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AwsError;

/// `__type` and `message` in the body, the code again in `X-Amzn-Errortype`.
#[derive(Debug)]
pub struct RestError(pub AwsError);

impl From<AwsError> for RestError {
    fn from(err: AwsError) -> Self {
        RestError(err)
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let RestError(err) = self;
        let mut response = (
            err.status,
            Json(serde_json::json!({ "__type": err.code, "message": err.message })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(err.code) {
            response.headers_mut().insert("x-amzn-errortype", value);
        }
        response
    }
}
