//! k3s server arguments that make its API server the issuer of an irsa-emulator cluster: the same flags
//! ([`irsa_emulator::clusters::apiserver_issuer_args`]) the local control plane and the kind config use,
//! passed through k3s's `--kube-apiserver-arg` / `--kube-controller-manager-arg`.

use std::path::Path;

use irsa_emulator::clusters::apiserver_issuer_args;

/// Where the key directory (`sa.key`, `sa.pub` from `irsa-emulator cluster create --out-dir`) is mounted in
/// the k3s container.
pub const NODE_KEY_DIR: &str = "/etc/rancher/irsa";

/// The full k3s command (`server …`). Traefik is disabled: nothing here needs an ingress, and it slows start-up.
pub fn server_args(issuer: &str, audiences: &[String]) -> Vec<String> {
    let dir = Path::new(NODE_KEY_DIR);
    let mut args = vec![
        "server".to_string(),
        "--snapshotter=native".to_string(),
        "--disable=traefik".to_string(),
    ];
    args.extend(
        apiserver_issuer_args(issuer, &dir.join("sa.key"), &dir.join("sa.pub"), audiences)
            .into_iter()
            .map(|(name, value)| format!("--kube-apiserver-arg={name}={value}")),
    );
    args.push(format!(
        "--kube-controller-manager-arg=service-account-private-key-file={}",
        dir.join("sa.key").display()
    ));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_args_carry_the_shared_issuer_flags() {
        let audiences = irsa_emulator::clusters::default_api_audiences();
        let args = server_args("https://172.17.0.1:8443/id/ABC", &audiences);
        assert_eq!(
            &args[3..],
            [
                "--kube-apiserver-arg=service-account-issuer=https://172.17.0.1:8443/id/ABC",
                "--kube-apiserver-arg=service-account-signing-key-file=/etc/rancher/irsa/sa.key",
                "--kube-apiserver-arg=service-account-key-file=/etc/rancher/irsa/sa.pub",
                "--kube-apiserver-arg=api-audiences=https://kubernetes.default.svc,sts.amazonaws.com",
                "--kube-controller-manager-arg=service-account-private-key-file=/etc/rancher/irsa/sa.key",
            ]
        );
    }
}
