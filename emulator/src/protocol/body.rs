//! Request bodies within limits: how much a client may send, and how long it may take.

use axum::body::Body;
use axum::http::StatusCode;

use super::AwsError;

/// Larger than any legal IAM request (policies are at most a few KB), small enough that a hostile client
/// cannot make the emulator buffer much.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How much of an oversized body is read (and dropped) before answering 413: a client still sending when the
/// server closes never sees the answer, only a broken connection. Beyond this the connection is cut.
const DRAIN_BODY_BYTES: usize = 4 * 1024 * 1024;

pub enum BodyError {
    TooLarge,
    TimedOut,
    /// The client stopped sending or the stream failed: nothing of it may be acted on.
    Broken,
}

impl BodyError {
    pub fn into_aws_error(self) -> AwsError {
        match self {
            BodyError::TooLarge => AwsError::new(
                "RequestEntityTooLarge",
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is larger than {MAX_BODY_BYTES} bytes"),
            ),
            BodyError::TimedOut => AwsError::new(
                "RequestTimeout",
                StatusCode::REQUEST_TIMEOUT,
                "Your socket connection to the server was not read from or written to within the timeout period",
            ),
            BodyError::Broken => AwsError::new(
                "IncompleteBody",
                StatusCode::BAD_REQUEST,
                "The request body ended before it was complete",
            ),
        }
    }
}

/// The whole body within [`MAX_BODY_BYTES`]; an oversized one is drained up to [`DRAIN_BODY_BYTES`].
pub async fn read_body(
    body: Body,
    timeout: std::time::Duration,
) -> Result<axum::body::Bytes, BodyError> {
    tokio::time::timeout(timeout, read_body_unbounded(body))
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

async fn read_body_unbounded(body: Body) -> Result<axum::body::Bytes, BodyError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        seen += chunk.len();
        if seen > DRAIN_BODY_BYTES {
            return Err(BodyError::TooLarge);
        }
        if seen <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(bytes.into())
}
