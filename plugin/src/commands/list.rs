//! `kubectl irsa list`: every bound service account with its kind (IRSA annotation or EKS Pod Identity
//! association), role and status (OK or the first problem).

use serde::Serialize;

use super::describe::{diagnose_selection, Selection};
use super::{print, Ctx};
use crate::cli::ListArgs;
use crate::error::Result;
use crate::output::{structured, table};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    namespace: String,
    name: String,
    /// `irsa` or `pod-identity`.
    kind: &'static str,
    role_arn: Option<String>,
    status: String,
}

pub async fn run(ctx: &Ctx, args: ListArgs) -> Result<()> {
    if args.orphans {
        return super::orphans::list(ctx, &args).await;
    }
    let selection = if args.all_namespaces {
        Selection::All
    } else {
        Selection::Namespace(ctx.namespace()?)
    };
    let diagnoses = diagnose_selection(ctx, selection, &args.issuer, false).await?;
    let rows: Vec<Row> = diagnoses
        .iter()
        .map(|d| Row {
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            kind: d.kind.label(),
            role_arn: d.role_arn.clone(),
            status: d.status(),
        })
        .collect();
    match structured(ctx.output(), &rows)? {
        Some(text) => print(&text),
        None if rows.is_empty() => {
            eprintln!(
                "No service accounts with an IRSA or EKS Pod Identity binding found (Pod Identity needs --cluster, \
                 or an EKS kubeconfig context)."
            );
        }
        None => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.namespace.clone(),
                        r.name.clone(),
                        r.kind.to_string(),
                        r.role_arn.clone().unwrap_or_else(|| "<none>".into()),
                        r.status.clone(),
                    ]
                })
                .collect();
            print(&table(
                &["NAMESPACE", "NAME", "KIND", "ROLE-ARN", "STATUS"],
                &cells,
            ));
        }
    }
    Ok(())
}
