//! kubectl-irsa: the plugin lands with its own issue; until then it only reports its version.
use clap::Parser;

/// Bind AWS IAM roles to Kubernetes service accounts (IRSA).
#[derive(Parser)]
#[command(name = "kubectl-irsa", version)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!("kubectl-irsa: commands are not implemented yet; see --help");
    std::process::exit(2);
}
