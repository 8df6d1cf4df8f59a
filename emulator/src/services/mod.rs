//! The services the emulator answers as, one module each: handlers translate between the wire
//! ([`crate::protocol`]) and the domain, each service holding only what it uses.

pub mod admin;
pub mod eks;
pub mod eks_auth;
pub mod iam;
pub mod oidc;
pub mod sts;
