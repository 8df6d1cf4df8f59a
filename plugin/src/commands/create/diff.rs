//! `kubectl irsa diff -f cluster.yaml`: every entry planned exactly as `create -f --prune --dry-run` plans
//! it, printed as differences (`+` added, `-` removed, `~` changed). Exit 1 on drift, so CI can gate on it.

use serde::Serialize;

use super::config_file::plan_entries;
use super::Report;
use crate::cli::{CreateArgs, DiffArgs};
use crate::commands::{print, Ctx};
use crate::error::{Error, Result};
use crate::output::structured;
use crate::plan::{ClusterStep, EksStep, IamStep, Step};

/// How a step reads in a diff.
pub fn marker(step: &Step) -> char {
    match step {
        Step::Iam(
            IamStep::CreateRole { .. }
            | IamStep::AttachPolicy { .. }
            | IamStep::CreateOidcProvider { .. },
        )
        | Step::Iam(IamStep::PutInlinePolicy { previous: None, .. })
        | Step::Cluster(ClusterStep::CreateNamespace { .. })
        | Step::Cluster(ClusterStep::ApplyServiceAccount { previous: None, .. })
        | Step::Eks(EksStep::CreatePodIdentityAssociation { .. }) => '+',
        Step::Iam(
            IamStep::DetachPolicy { .. }
            | IamStep::DeleteInlinePolicy { .. }
            | IamStep::DeleteRole { .. },
        )
        | Step::Cluster(
            ClusterStep::DeleteServiceAccount { .. }
            | ClusterStep::RemoveServiceAccountAnnotations { .. },
        )
        | Step::Eks(EksStep::DeletePodIdentityAssociation { .. }) => '-',
        _ => '~',
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    namespace: &'a str,
    name: &'a str,
    role_arn: &'a str,
    in_sync: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    changes: Vec<String>,
    notes: &'a [String],
}

fn entry(report: &Report) -> Entry<'_> {
    let (changes, notes): (Vec<String>, &[String]) = match &report.plan {
        Some(plan) => (
            plan.steps
                .iter()
                .map(|s| {
                    use crate::plan::PlanStep;
                    format!("{} {}", marker(s), s.summary())
                })
                .collect(),
            &plan.warnings,
        ),
        None => (Vec::new(), &[]),
    };
    Entry {
        namespace: &report.namespace,
        name: &report.name,
        role_arn: &report.role_arn,
        in_sync: changes.is_empty() && report.error.is_none(),
        error: report.error.as_deref(),
        changes,
        notes,
    }
}

/// The text of a diff.
fn render(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        if e.in_sync {
            out.push_str(&format!("= {}/{}: in sync\n", e.namespace, e.name));
            continue;
        }
        out.push_str(&format!("{}/{} ({}):\n", e.namespace, e.name, e.role_arn));
        if let Some(error) = e.error {
            out.push_str(&format!("  ! cannot be planned: {error}\n"));
        }
        for change in &e.changes {
            out.push_str(&format!("  {change}\n"));
        }
        for note in e.notes {
            out.push_str(&format!("  ! {note}\n"));
        }
    }
    out
}

pub async fn run(ctx: Ctx, args: DiffArgs) -> Result<()> {
    let create = CreateArgs {
        name: None,
        config_file: Some(args.config_file.clone()),
        issuer: args.issuer.clone(),
        role_name: None,
        attach_policy_arn: Vec::new(),
        inline_policy: None,
        well_known_policy: Vec::new(),
        attach_role_arn: None,
        permissions_boundary: None,
        role_path: None,
        max_session_duration: None,
        tags: Vec::new(),
        audience: args.audience.clone(),
        subject_pattern: None,
        role_only: false,
        pod_identity: false,
        // A service account bound to another role is drift too: the file says which role it should have.
        override_existing_serviceaccounts: true,
        add_trust: false,
        dry_run: true,
        prune: true,
        concurrency: 8,
    };
    let (ctx, reports) = plan_entries(ctx, &create, &args.config_file).await?;
    let entries: Vec<Entry> = reports.iter().map(entry).collect();
    match structured(ctx.output(), &entries)? {
        Some(text) => print(&text),
        None => print(&render(&entries)),
    }
    let drifted = entries.iter().filter(|e| !e.in_sync).count();
    if drifted > 0 {
        return Err(Error::Drift(format!(
            "{drifted} of {} service account(s) differ from {} (`kubectl irsa create -f {} --prune` applies it)",
            entries.len(),
            args.config_file.display(),
            args.config_file.display()
        )));
    }
    Ok(())
}
