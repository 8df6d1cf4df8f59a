//! `irsa-kind-config`: prints the kind cluster config that makes a kind cluster's API server the issuer of an
//! irsa-emulator cluster (`scripts/kind-up.sh` uses it). The kube-apiserver flags are the ones the e2e tests'
//! local control plane runs with (`irsa_names::apiserver_issuer_args`).
//!
//!   irsa-kind-config --name NAME --issuer URL --key-dir DIR [--node-image IMAGE] [--kubeadm-api v1beta3|v1beta4]

use std::path::PathBuf;

use anyhow::{bail, Context};
use irsa_e2e::kind::{KindConfig, KubeadmApi};

const USAGE: &str = "usage: irsa-kind-config --name NAME --issuer URL --key-dir DIR [--node-image IMAGE] \
[--kubeadm-api v1beta3|v1beta4]
Prints a kind config (kind.x-k8s.io/v1alpha4): DIR (holding sa.key and sa.pub from `irsa-emulator cluster \
create --out-dir DIR`) mounted into the node, and kubeadm patches setting kube-apiserver's \
--service-account-issuer/-signing-key-file/-key-file/--api-audiences and kube-controller-manager's \
--service-account-private-key-file, one for each kubeadm API (kind applies the one matching the version it \
generates: v1beta3 before Kubernetes 1.36 with kind v0.33, v1beta4 from 1.36); --kubeadm-api keeps only one.";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut name, mut issuer, mut key_dir, mut image) = (None, None, None, None);
    let mut apis = None;
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .with_context(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            "--name" => name = Some(value()?),
            "--issuer" => issuer = Some(value()?),
            "--key-dir" => key_dir = Some(PathBuf::from(value()?)),
            "--node-image" => image = Some(value()?).filter(|s| !s.is_empty()),
            "--kubeadm-api" => {
                let v = value()?;
                apis = Some(vec![KubeadmApi::parse(&v).with_context(|| {
                    format!("--kubeadm-api must be v1beta3 or v1beta4, not {v}")
                })?]);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let (Some(name), Some(issuer), Some(key_dir)) = (name, issuer, key_dir) else {
        bail!("--name, --issuer and --key-dir are required\n{USAGE}");
    };
    if !issuer.starts_with("https://") {
        bail!("--issuer must be an https:// URL (irsa-emulator cluster create prints it), not {issuer}");
    }
    let key_dir = std::path::absolute(&key_dir)
        .with_context(|| format!("cannot make {} absolute", key_dir.display()))?;
    for file in ["sa.key", "sa.pub"] {
        if !key_dir.join(file).is_file() {
            bail!(
                "{} has no {file} (irsa-emulator cluster create --out-dir writes it)",
                key_dir.display()
            );
        }
    }
    let mut cfg = KindConfig::new(name, issuer, key_dir);
    cfg.node_image = image;
    if let Some(apis) = apis {
        cfg.kubeadm_apis = apis;
    }
    print!("{}", cfg.to_yaml());
    Ok(())
}
