//! `kubectl-irsa`: found by kubectl on PATH and run as `kubectl irsa …`.

use clap::Parser;
use kubectl_irsa::cli::Cli;

fn main() {
    let cli = Cli::parse();
    // Both the AWS SDK and kube-rs use rustls; pin the process-wide provider to ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(kubectl_irsa::commands::run(cli));
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
