//! kubectl-irsa: bind AWS IAM roles to Kubernetes service accounts (IRSA), the way `eksctl create
//! iamserviceaccount` does, with direct IAM calls, a plan printed before anything changes, rollback on
//! failure, and a `describe` that explains why a binding works or not.
//!
//! The binary (`src/main.rs`) only parses the command line and calls [`commands::run`].

pub mod aws;
pub mod cli;
pub mod clusterconfig;
pub mod commands;
pub mod doctor;
pub mod error;
pub mod executor;
pub mod export;
pub mod kube;
pub mod lint;
pub mod naming;
pub mod output;
pub mod plan;
pub mod presets;
pub mod thumbprint;
pub mod trust;

pub use error::{Error, Result};
