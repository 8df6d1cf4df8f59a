//! The Kubernetes side as YAML, what `kubectl apply -f` takes: the namespace when it does not exist yet, then
//! the ServiceAccount with the role annotation (like `kubectl create … --dry-run -o yaml`).

use serde_json::json;

use super::Binding;

pub fn render(bindings: &[Binding]) -> String {
    let mut documents = Vec::new();
    for b in bindings {
        let Some(sa) = &b.service_account else {
            continue;
        };
        if sa.create_namespace {
            documents.push(json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": { "name": b.namespace },
            }));
        }
        let mut metadata = json!({ "name": b.name, "namespace": b.namespace });
        if !sa.annotations.is_empty() {
            metadata["annotations"] = json!(sa.annotations);
        }
        if !sa.labels.is_empty() {
            metadata["labels"] = json!(sa.labels);
        }
        documents
            .push(json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata }));
    }
    documents
        .iter()
        .map(|d| serde_yaml::to_string(d).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("---\n")
}
