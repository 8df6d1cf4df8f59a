//! The doctor's report as text: the checks, each problem's fix, and a verdict.

use std::fmt::Write as _;

use super::{Check, Diagnosis, Status, Verdict};

/// The report as text.
pub fn render(d: &Diagnosis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Service account:  {}/{}", d.namespace, d.name);
    let _ = writeln!(
        out,
        "Role ARN:         {}",
        d.role_arn.as_deref().unwrap_or("<none>")
    );
    match d.kind {
        super::BindingKind::Irsa => {
            let _ = writeln!(
                out,
                "Issuer:           {}",
                d.issuer.as_deref().unwrap_or("<unknown>")
            );
        }
        super::BindingKind::PodIdentity => {
            let _ = writeln!(
                out,
                "Binding:          EKS Pod Identity (association {} in cluster {})",
                d.association.as_deref().unwrap_or("?"),
                d.cluster.as_deref().unwrap_or("?")
            );
        }
    }
    let _ = writeln!(out, "Checks:");
    let width = d.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
    for c in &d.checks {
        let _ = writeln!(
            out,
            "  {:<9} {:<width$}  {}",
            format!("[{}]", c.status.label()),
            c.check,
            c.message
        );
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "  {:<9} {:<width$}  fix: {fix}", "", "");
        }
    }
    if !d.policy_documents.is_empty() {
        let _ = writeln!(out, "Policies:");
        for (name, doc) in &d.policy_documents {
            let _ = writeln!(out, "  {name}:");
            for line in serde_json::to_string_pretty(doc)
                .unwrap_or_default()
                .lines()
            {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let problems: Vec<&Check> = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Problem)
        .collect();
    let warnings = d
        .checks
        .iter()
        .filter(|c| c.status == Status::Warning)
        .count();
    match d.verdict {
        Verdict::Ok => {
            let _ = writeln!(
                out,
                "Verdict: OK - pods using this service account can assume the role"
            );
        }
        Verdict::Warnings => {
            let _ = writeln!(out, "Verdict: OK with {warnings} warning(s)");
        }
        Verdict::Problems => {
            let _ = writeln!(
                out,
                "Verdict: {} problem(s) - the binding does not work:",
                problems.len()
            );
            for (i, p) in problems.iter().enumerate() {
                let _ = writeln!(out, "  {}. {}", i + 1, p.message);
                if let Some(fix) = &p.fix {
                    let _ = writeln!(out, "     fix: {fix}");
                }
            }
        }
    }
    out
}
