//! The plugin as kubectl runs it: discovery by a real kubectl, and the kubeconfig, context, namespace and
//! AWS profile conventions.

use crate::common::{self, env};

#[test]
fn real_kubectl_finds_and_runs_the_plugin() {
    let Some((env, _guard)) = env() else { return };
    let kubectl = irsa_e2e::controlplane::kubectl_binary().expect("kubectl (IRSA_KUBECTL)");
    let bin_dir = env.dir.path().join("plugins");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let plugin = bin_dir.join("kubectl-irsa");
    std::fs::copy(common::plugin_bin(), &plugin).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.clone()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&kubectl);
        common::isolate(&mut cmd, env.dir.path());
        let out = cmd
            .env("PATH", &path)
            .env("AWS_ENDPOINT_URL", env.emulator.url())
            .env("AWS_CA_BUNDLE", &env.ca_path)
            .env(
                "AWS_ACCESS_KEY_ID",
                irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID,
            )
            .env(
                "AWS_SECRET_ACCESS_KEY",
                irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY,
            )
            .env("AWS_REGION", "us-east-1")
            .args(args)
            .output()
            .unwrap();
        common::Run::new(args, out)
    };
    let version = run(&["irsa", "--version"]);
    assert_eq!(version.code, 0, "{version}");
    assert!(
        version
            .stdout
            .contains(&format!("kubectl-irsa {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let plugins = run(&["plugin", "list"]);
    assert!(
        plugins.stdout.contains(plugin.to_str().unwrap()),
        "{plugins}"
    );
    let help = run(&["irsa", "--help"]);
    assert!(help.stdout.contains("Usage: kubectl irsa"), "{help}");

    // Flags after the plugin name reach it: a real command through kubectl.
    let kubeconfig = format!("--kubeconfig={}", env.cp.kubeconfig().display());
    let shown = run(&["irsa", "oidc", "show", &kubeconfig, "-o", "json"]);
    assert_eq!(shown.code, 0, "{shown}");
    assert_eq!(shown.json()["issuer"], env.issuer.as_str());
}

/// Run a prepared plugin command.
fn output(mut cmd: std::process::Command, args: &[&str]) -> common::Run {
    let out = cmd.args(args).output().expect("plugin runs");
    common::Run::new(args, out)
}

#[test]
fn kubeconfig_context_namespace_and_aws_profile_conventions() {
    let Some((env, _guard)) = env() else { return };
    // A kubeconfig whose current context has a namespace, plus a second context with another one.
    let kubeconfig = env.dir.path().join("kubeconfig-contexts");
    std::fs::copy(env.cp.kubeconfig(), &kubeconfig).unwrap();
    let kubectl = irsa_e2e::controlplane::kubectl_binary().unwrap();
    let kc = |args: &[&str]| {
        let out = std::process::Command::new(&kubectl)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let cluster = kc(&[
        "config",
        "view",
        "-o",
        "jsonpath={.contexts[0].context.cluster}",
    ]);
    let user = kc(&[
        "config",
        "view",
        "-o",
        "jsonpath={.contexts[0].context.user}",
    ]);
    kc(&[
        "config",
        "set-context",
        "--current",
        "--namespace=ctx-current",
    ]);
    kc(&[
        "config",
        "set-context",
        "second",
        &format!("--cluster={cluster}"),
        &format!("--user={user}"),
        "--namespace=ctx-second",
    ]);
    let flag = format!("--kubeconfig={}", kubeconfig.display());

    let run = output(
        env.plugin_without_kubeconfig(),
        &[&flag, "create", "--name", "app", "--dry-run"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("service account ctx-current/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[
            &flag,
            "--context",
            "second",
            "create",
            "--name",
            "app",
            "--dry-run",
        ],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout.contains("service account ctx-second/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[
            &flag,
            "--context",
            "second",
            "-n",
            "explicit",
            "create",
            "--name",
            "app",
            "--dry-run",
        ],
    );
    assert!(run.stdout.contains("service account explicit/app"), "{run}");
    // KUBECONFIG works as for kubectl.
    let mut cmd = env.plugin_without_kubeconfig();
    cmd.env("KUBECONFIG", &kubeconfig);
    let run = output(cmd, &["create", "--name", "app", "--dry-run"]);
    assert!(
        run.stdout.contains("service account ctx-current/app"),
        "{run}"
    );
    let run = output(
        env.plugin_without_kubeconfig(),
        &[&flag, "--context", "nope", "list"],
    );
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr
            .contains("context \"nope\" is not in the kubeconfig"),
        "{run}"
    );

    // AWS: credentials and region from a shared-config profile.
    let config = env.dir.path().join("aws-config");
    let credentials = env.dir.path().join("aws-credentials");
    std::fs::write(&config, "[profile emu]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[emu]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            irsa_emulator::config::DEFAULT_ADMIN_ACCESS_KEY_ID,
            irsa_emulator::config::DEFAULT_ADMIN_SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let profiled = || {
        let mut cmd = env.plugin();
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_REGION")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
        cmd
    };
    let run = output(
        profiled(),
        &["--profile", "emu", "oidc", "show", "-o", "json"],
    );
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["provider"]["arn"], env.provider_arn().as_str());
    let run = output(profiled(), &["oidc", "show"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(run.stderr.contains("no usable AWS credentials"), "{run}");
}
