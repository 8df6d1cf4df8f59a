//! End-to-end test helpers.
//!
//! [`controlplane`] runs a real, node-less Kubernetes control plane (etcd +
//! kube-apiserver built from `e2e/controlplane/`, like controller-runtime's
//! envtest) configured as an IRSA service-account issuer.

pub mod controlplane;
/// Whether a Docker engine answers (kind and container tests skip without one).
pub mod docker;
/// k3s server arguments (tests/containers.rs), from the same flags.
pub mod k3s;
/// The kind config for kind clusters issuing IRSA tokens (`scripts/kind-up.sh`), from the same flags.
pub mod kind;

pub use controlplane::{ControlPlane, ControlPlaneConfig, STS_AUDIENCE};
