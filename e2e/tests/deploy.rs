//! deploy/ (the emulator inside a cluster): `kubectl kustomize deploy/` renders the objects the emulator needs,
//! wired to each other (ServiceAccount, volumes, ports, labels), with its data dir on a PersistentVolumeClaim; a
//! real kube-apiserver accepts them, and the MutatingWebhookConfiguration registered afterwards.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use irsa_e2e::controlplane::{
    kubectl_binary, repo_root, skip_requested, ControlPlane, ControlPlaneConfig,
};
use serde_yaml::Value;

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

/// `kubectl kustomize deploy/`, one Value per object.
fn rendered() -> Vec<Value> {
    let kubectl = kubectl_binary().expect("kubectl (scripts/install-kubectl.sh installs it)");
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(deploy_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl kustomize deploy/: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else if let Some(doc) = docs.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs.iter()
        .map(|doc| serde_yaml::from_str::<Value>(doc).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"].as_str() == Some(kind) && o["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name} in kubectl kustomize deploy/"))
}

fn webhook_configuration() -> Value {
    let text =
        std::fs::read_to_string(deploy_dir().join("mutatingwebhookconfiguration.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

#[test]
fn kustomization_renders_the_emulator_wired_together_with_durable_data() {
    let objects = rendered();
    let kinds: BTreeSet<(String, String)> = objects
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_string(),
                o["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("Namespace", "irsa-system"),
        ("ServiceAccount", "irsa-emulator"),
        ("ClusterRole", "irsa-emulator"),
        ("ClusterRoleBinding", "irsa-emulator"),
        ("ConfigMap", "irsa-emulator-kubeconfig"),
        ("PersistentVolumeClaim", "irsa-emulator-data"),
        ("Deployment", "irsa-emulator"),
        ("Service", "irsa-emulator"),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n.to_string()))
    .collect();
    assert_eq!(kinds, want);
    for o in &objects {
        if o["kind"].as_str() != Some("Namespace")
            && !o["kind"].as_str().unwrap().starts_with("Cluster")
        {
            assert_eq!(
                o["metadata"]["namespace"].as_str(),
                Some("irsa-system"),
                "{o:?}"
            );
        }
    }

    // The data dir (state.db, ca.pem, keys) is the claim, mounted where --data-dir points.
    let deployment = find(&objects, "Deployment", "irsa-emulator");
    let pod = &deployment["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_sequence().unwrap();
    let data = volumes
        .iter()
        .find(|v| v["name"].as_str() == Some("data"))
        .expect("volume data");
    assert_eq!(
        data["persistentVolumeClaim"]["claimName"].as_str(),
        Some("irsa-emulator-data"),
        "{data:?}"
    );
    let container = &pod["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&"--data-dir=/data"), "{args:?}");
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    assert!(mounts
        .iter()
        .any(|m| m["name"].as_str() == Some("data") && m["mountPath"].as_str() == Some("/data")));
    // One writer of SQLite on a ReadWriteOnce claim: a rollout must stop the old pod first.
    assert_eq!(deployment["spec"]["replicas"].as_u64(), Some(1));
    assert_eq!(
        deployment["spec"]["strategy"]["type"].as_str(),
        Some("Recreate")
    );
    let claim = find(&objects, "PersistentVolumeClaim", "irsa-emulator-data");
    assert_eq!(
        claim["spec"]["accessModes"][0].as_str(),
        Some("ReadWriteOnce")
    );

    // --kubeconfig is the ConfigMap's key, mounted.
    assert!(
        args.contains(&"--kubeconfig=/etc/irsa-emulator/kubeconfig"),
        "{args:?}"
    );
    let kubeconfig = volumes
        .iter()
        .find(|v| v["name"].as_str() == Some("kubeconfig"))
        .unwrap();
    assert_eq!(
        kubeconfig["configMap"]["name"].as_str(),
        Some("irsa-emulator-kubeconfig")
    );
    assert!(
        find(&objects, "ConfigMap", "irsa-emulator-kubeconfig")["data"]["kubeconfig"].is_string()
    );

    // The pod runs as the ServiceAccount the ClusterRoleBinding grants.
    assert_eq!(pod["serviceAccountName"].as_str(), Some("irsa-emulator"));
    let binding = find(&objects, "ClusterRoleBinding", "irsa-emulator");
    assert_eq!(
        binding["subjects"][0]["name"].as_str(),
        Some("irsa-emulator")
    );
    assert_eq!(
        binding["subjects"][0]["namespace"].as_str(),
        Some("irsa-system")
    );
    assert_eq!(binding["roleRef"]["name"].as_str(), Some("irsa-emulator"));

    // The Service selects the pod and targets its named port; the webhook registration calls that Service.
    let service = find(&objects, "Service", "irsa-emulator");
    let labels = &pod_labels(deployment);
    for (k, v) in service["spec"]["selector"].as_mapping().unwrap() {
        assert_eq!(
            labels.get(k),
            Some(v),
            "selector {k:?} does not match the pod"
        );
    }
    let port = &service["spec"]["ports"][0];
    assert_eq!(port["targetPort"], container["ports"][0]["name"]);
    let webhook = webhook_configuration();
    let client = &webhook["webhooks"][0]["clientConfig"]["service"];
    assert_eq!(client["namespace"].as_str(), Some("irsa-system"));
    assert_eq!(client["name"], service["metadata"]["name"]);
    assert_eq!(client["port"], port["port"]);
    assert_eq!(client["path"].as_str(), Some("/mutate"));
    // The webhook never mutates the emulator's own pods.
    assert_eq!(
        labels
            .get("eks.amazonaws.com/skip-pod-identity-webhook")
            .and_then(Value::as_str),
        Some("true")
    );
}

fn pod_labels(deployment: &Value) -> serde_yaml::Mapping {
    deployment["spec"]["template"]["metadata"]["labels"]
        .as_mapping()
        .unwrap()
        .clone()
}

/// A real kube-apiserver (no nodes: the pod never starts) accepts every object: `kubectl apply -k deploy/`,
/// then the webhook registration, each first with `--dry-run=server`.
#[test]
fn kube_apiserver_accepts_the_deploy_manifests() {
    if skip_requested() {
        eprintln!(
            "skipped: IRSA_SKIP_CONTROLPLANE=1 (no local control plane); deploy/ was not applied"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sa.key");
    let public = dir.path().join("sa.pub");
    let pem = irsa_emulator::keys::generate_signing_key_pem().unwrap();
    std::fs::write(&key, &pem).unwrap();
    let public_pem = irsa_emulator::keys::public_key(&pem)
        .and_then(|k| irsa_emulator::keys::public_key_pem(&k))
        .unwrap();
    std::fs::write(&public, public_pem).unwrap();
    let plane = ControlPlane::start(ControlPlaneConfig::new(
        "https://127.0.0.1:8443/id/DEPLOY",
        key,
        public,
    ))
    .expect("local control plane starts (scripts/test.sh builds it)");
    let deploy = deploy_dir();
    let kustomization = deploy.display().to_string();
    let webhook = deploy
        .join("mutatingwebhookconfiguration.yaml")
        .display()
        .to_string();
    let apply = |args: &[&str]| {
        plane
            .run_kubectl(args)
            .unwrap_or_else(|e| panic!("kubectl {args:?}: {e:#}\n{}", plane.apiserver_log_tail(20)))
    };
    // Server-side dry run of the namespaced objects needs their namespace to exist.
    apply(&[
        "apply",
        "-f",
        &deploy.join("namespace.yaml").display().to_string(),
    ]);
    apply(&["apply", "--dry-run=server", "-k", &kustomization]);
    apply(&["apply", "-k", &kustomization]);
    apply(&["apply", "--dry-run=server", "-f", &webhook]);
    apply(&["apply", "-f", &webhook]);

    for object in [
        "deployment/irsa-emulator",
        "service/irsa-emulator",
        "persistentvolumeclaim/irsa-emulator-data",
        "serviceaccount/irsa-emulator",
        "configmap/irsa-emulator-kubeconfig",
    ] {
        apply(&["get", "-n", "irsa-system", object, "-o", "name"]);
    }
    for object in [
        "clusterrole/irsa-emulator",
        "clusterrolebinding/irsa-emulator",
        "mutatingwebhookconfiguration/irsa-emulator",
    ] {
        apply(&["get", object, "-o", "name"]);
    }
    // RBAC grants what the webhook does: read ServiceAccounts, publish the CA ConfigMap.
    for (verb, resource) in [
        ("watch", "serviceaccounts"),
        ("create", "configmaps"),
        ("list", "namespaces"),
    ] {
        let answer = apply(&[
            "auth",
            "can-i",
            verb,
            resource,
            "--all-namespaces",
            "--as=system:serviceaccount:irsa-system:irsa-emulator",
        ]);
        assert_eq!(answer.trim(), "yes", "{verb} {resource}");
    }
}
