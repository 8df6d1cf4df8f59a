//! Printing: `-o table` (text), `-o json`, `-o yaml`.

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::error::{Error, Result};

/// Serialize `value` as JSON or YAML; `None` for table output (the caller prints text).
pub fn structured<T: Serialize>(format: OutputFormat, value: &T) -> Result<Option<String>> {
    match format {
        OutputFormat::Table => Ok(None),
        OutputFormat::Terraform | OutputFormat::Cloudformation | OutputFormat::Eksctl => Err(
            Error::usage("-o terraform|cloudformation|eksctl is for `create --dry-run` only"),
        ),
        OutputFormat::Json => serde_json::to_string_pretty(value)
            .map(|s| Some(s + "\n"))
            .map_err(|e| Error::Conflict(format!("cannot render JSON: {e}"))),
        OutputFormat::Yaml => serde_yaml::to_string(value)
            .map(Some)
            .map_err(|e| Error::Conflict(format!("cannot render YAML: {e}"))),
    }
}

/// A text table with left-aligned columns separated by three spaces, like kubectl's.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            s.push_str(cell);
            if i < last {
                let pad = widths[i].saturating_sub(cell.chars().count()) + 3;
                s.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["NAMESPACE", "NAME"],
            &[
                vec!["default".into(), "a".into()],
                vec!["x".into(), "bb".into()],
            ],
        );
        assert_eq!(t, "NAMESPACE   NAME\ndefault     a\nx           bb\n");
    }

    #[test]
    fn structured_formats() {
        let v = serde_json::json!({"a": 1});
        assert_eq!(structured(OutputFormat::Table, &v).unwrap(), None);
        assert_eq!(
            structured(OutputFormat::Json, &v).unwrap().unwrap(),
            "{\n  \"a\": 1\n}\n"
        );
        assert_eq!(
            structured(OutputFormat::Yaml, &v).unwrap().unwrap(),
            "a: 1\n"
        );
    }
}
