//! The edge: everything that knows what AWS's wire formats look like, and nothing else. Requests come in as
//! axum extractors ([`QueryRequest`] for IAM and STS, [`Caller`](crate::auth::Caller) for signed REST calls,
//! [`AdminCaller`] for the emulator's own API) and leave as responses ([`QueryResponse`], JSON), errors as
//! [`QueryError`] or [`RestError`]. Handlers in `services/` only translate between these and the domain.

mod body;
mod error;
mod extract;
mod query;
mod rest;
mod sigv4;
pub mod validation;
mod xml;

pub use error::AwsError;
pub use extract::{AdminCaller, RequestLimits};
pub use query::{error_document, Params, QueryError, QueryRequest, QueryResponse, IAM, STS};
pub use rest::{EksAuthSigning, EksSigning, RestError, Signed, SignedJson};
pub(crate) use sigv4::verify as verify_signature;
pub use sigv4::{authorization, check_scope, signing_time, Authorization, SignedRequest};
pub use xml::XmlWriter;
