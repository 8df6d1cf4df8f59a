//! End-to-end test helpers.
//!
//! [`controlplane`] runs a real, node-less Kubernetes control plane (etcd +
//! kube-apiserver built from `e2e/controlplane/`, like controller-runtime's
//! envtest) configured as an IRSA service-account issuer.

pub mod controlplane;
/// Whether a Docker engine answers (kind and container tests skip without one).
pub mod docker;
/// The kind config for kind clusters issuing IRSA tokens (`scripts/kind-up.sh`), from the same flags.
pub mod kind;
/// A kind cluster made by `scripts/kind-up.sh`, for tests where pods really run.
pub mod kind_cluster;

pub use controlplane::{ControlPlane, ControlPlaneConfig, STS_AUDIENCE};
