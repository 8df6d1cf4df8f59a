//! `irsa-controlplane`: runs the local control plane (real etcd + kube-apiserver) as an IRSA issuer until
//! SIGINT/SIGTERM, for scripts/demo.sh and for exploring by hand. Tests use the library directly.
//!
//!   irsa-controlplane --issuer URL --signing-key sa.key --public-key sa.pub --kubeconfig-out PATH

use std::path::PathBuf;

use anyhow::{bail, Context};
use irsa_e2e::controlplane::{ControlPlane, ControlPlaneConfig};

fn arg_value(args: &[String], name: &str) -> anyhow::Result<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .with_context(|| format!("missing {name} VALUE (see the usage at the top of the source: irsa-controlplane --help)"))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") || args.is_empty() {
        println!("usage: irsa-controlplane --issuer URL --signing-key sa.key --public-key sa.pub --kubeconfig-out PATH");
        println!("Runs etcd + kube-apiserver on loopback as the issuer of an irsa-emulator cluster until interrupted.");
        return Ok(());
    }
    let issuer = arg_value(&args, "--issuer")?;
    let signing_key = PathBuf::from(arg_value(&args, "--signing-key")?);
    let public_key = PathBuf::from(arg_value(&args, "--public-key")?);
    let kubeconfig_out = PathBuf::from(arg_value(&args, "--kubeconfig-out")?);
    for file in [&signing_key, &public_key] {
        if !file.exists() {
            bail!(
                "{} does not exist (irsa-emulator cluster create writes it)",
                file.display()
            );
        }
    }
    let plane = ControlPlane::start(ControlPlaneConfig::new(issuer, signing_key, public_key))?;
    std::fs::copy(plane.kubeconfig(), &kubeconfig_out)
        .with_context(|| format!("cannot write {}", kubeconfig_out.display()))?;
    println!(
        "control plane ready at {}; kubeconfig: {}",
        plane.server_url(),
        kubeconfig_out.display()
    );
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])?;
    signals.forever().next();
    drop(plane);
    let _ = std::fs::remove_file(&kubeconfig_out);
    Ok(())
}
