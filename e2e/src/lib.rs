//! End-to-end test helpers.
//!
//! [`controlplane`] runs a real, node-less Kubernetes control plane (etcd +
//! kube-apiserver built from `e2e/controlplane/`, like controller-runtime's
//! envtest) configured as an IRSA service-account issuer.

pub mod controlplane;
/// The kind config for kind clusters issuing IRSA tokens (`scripts/kind-up.sh`), from the same flags.
pub mod kind;

pub use controlplane::{ControlPlane, ControlPlaneConfig, STS_AUDIENCE};
