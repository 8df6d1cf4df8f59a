//! Plans: what a command will change, computed before anything is touched, printable (that is `--dry-run`),
//! and applied step by step. When a step fails, the steps this run already did are undone in reverse order
//! and the error says what was rolled back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::aws::NewRole;
use crate::error::{Error, Result};

/// A service account's IRSA-relevant metadata before a step changed it, to restore it on rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct SaSnapshot {
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    CreateOidcProvider {
        issuer: String,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
    },
    AddClientId {
        provider_arn: String,
        client_id: String,
    },
    CreateRole {
        role: NewRole,
    },
    UpdateTrust {
        role: String,
        trust: Value,
        previous: Value,
    },
    UpdateMaxSessionDuration {
        role: String,
        seconds: i32,
        previous: Option<i32>,
    },
    PutPermissionsBoundary {
        role: String,
        policy_arn: String,
        previous: Option<String>,
    },
    TagRole {
        role: String,
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        tags: Vec<(String, String)>,
        /// Previous values of those keys (`None`: the key was absent).
        #[serde(serialize_with = "crate::aws::tags_as_map")]
        previous: Vec<(String, Option<String>)>,
    },
    AttachPolicy {
        role: String,
        policy_arn: String,
    },
    DetachPolicy {
        role: String,
        policy_arn: String,
    },
    PutInlinePolicy {
        role: String,
        policy_name: String,
        document: Value,
        previous: Option<Value>,
    },
    DeleteInlinePolicy {
        role: String,
        policy_name: String,
        previous: Value,
    },
    DeleteRole {
        role: String,
    },
    CreateNamespace {
        namespace: String,
    },
    ApplyServiceAccount {
        namespace: String,
        name: String,
        annotations: BTreeMap<String, String>,
        labels: BTreeMap<String, String>,
        /// `None`: the service account does not exist yet.
        previous: Option<SaSnapshot>,
    },
    RemoveServiceAccountAnnotations {
        namespace: String,
        name: String,
        keys: Vec<String>,
        previous: SaSnapshot,
    },
    DeleteServiceAccount {
        namespace: String,
        name: String,
        previous: SaSnapshot,
    },
}

fn kv(pairs: &BTreeMap<String, String>) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tags_text(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Step {
    /// One line saying what the step does.
    pub fn summary(&self) -> String {
        match self {
            Step::CreateOidcProvider {
                issuer,
                client_ids,
                thumbprints,
                ..
            } => format!(
                "create IAM OIDC provider for {issuer} (client IDs {}, thumbprint {})",
                client_ids.join(", "),
                thumbprints.join(", ")
            ),
            Step::AddClientId {
                provider_arn,
                client_id,
            } => format!("add client ID {client_id} to IAM OIDC provider {provider_arn}"),
            Step::CreateRole { role } => {
                let mut s = format!("create IAM role {} (path {}", role.name, role.path);
                if let Some(m) = role.max_session_duration {
                    let _ = write!(s, ", max session {m}s");
                }
                if let Some(b) = &role.permissions_boundary {
                    let _ = write!(s, ", permissions boundary {b}");
                }
                let _ = write!(s, ", tags {})", tags_text(&role.tags));
                s
            }
            Step::UpdateTrust { role, .. } => format!("update the trust policy of role {role}"),
            Step::UpdateMaxSessionDuration {
                role,
                seconds,
                previous,
            } => format!(
                "set max session duration of role {role} to {seconds}s (was {})",
                previous.map_or("the default".to_string(), |p| format!("{p}s"))
            ),
            Step::PutPermissionsBoundary {
                role, policy_arn, ..
            } => format!("set permissions boundary of role {role} to {policy_arn}"),
            Step::TagRole { role, tags, .. } => {
                format!("tag role {role} with {}", tags_text(tags))
            }
            Step::AttachPolicy { role, policy_arn } => {
                format!("attach policy {policy_arn} to role {role}")
            }
            Step::DetachPolicy { role, policy_arn } => {
                format!("detach policy {policy_arn} from role {role}")
            }
            Step::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => {
                let verb = if previous.is_some() { "replace" } else { "put" };
                format!("{verb} inline policy {policy_name} of role {role}")
            }
            Step::DeleteInlinePolicy {
                role, policy_name, ..
            } => format!("delete inline policy {policy_name} of role {role}"),
            Step::DeleteRole { role } => format!("delete IAM role {role}"),
            Step::CreateNamespace { namespace } => format!("create namespace {namespace}"),
            Step::ApplyServiceAccount {
                namespace,
                name,
                annotations,
                labels,
                previous,
            } => {
                let verb = if previous.is_some() {
                    "annotate"
                } else {
                    "create"
                };
                let mut s = format!(
                    "{verb} service account {namespace}/{name} ({}",
                    kv(annotations)
                );
                if !labels.is_empty() {
                    let _ = write!(s, "; labels {}", kv(labels));
                }
                s.push(')');
                s
            }
            Step::RemoveServiceAccountAnnotations {
                namespace,
                name,
                keys,
                ..
            } => format!(
                "remove annotation {} from service account {namespace}/{name}",
                keys.join(", ")
            ),
            Step::DeleteServiceAccount {
                namespace, name, ..
            } => format!("delete service account {namespace}/{name}"),
        }
    }

    /// Documents worth showing in full (trust policies, inline policies), as `(title, JSON)`.
    pub fn documents(&self) -> Vec<(&'static str, &Value)> {
        match self {
            Step::CreateRole { role } => vec![("trust policy", &role.trust)],
            Step::UpdateTrust { trust, .. } => vec![("new trust policy", trust)],
            Step::PutInlinePolicy { document, .. } => vec![("policy document", document)],
            _ => Vec::new(),
        }
    }

    /// What undoing the step does, in the past tense (for the rollback report).
    pub fn undo_summary(&self) -> String {
        match self {
            Step::CreateOidcProvider { issuer, .. } => {
                format!("deleted the IAM OIDC provider for {issuer}")
            }
            Step::AddClientId {
                provider_arn,
                client_id,
            } => format!("removed client ID {client_id} from {provider_arn}"),
            Step::CreateRole { role } => format!("deleted role {}", role.name),
            Step::UpdateTrust { role, .. } => format!("restored the trust policy of role {role}"),
            Step::UpdateMaxSessionDuration { role, .. } => {
                format!("restored the max session duration of role {role}")
            }
            Step::PutPermissionsBoundary { role, .. } => {
                format!("restored the permissions boundary of role {role}")
            }
            Step::TagRole { role, .. } => format!("restored the tags of role {role}"),
            Step::AttachPolicy { role, policy_arn } => {
                format!("detached policy {policy_arn} from role {role}")
            }
            Step::DetachPolicy { role, policy_arn } => {
                format!("re-attached policy {policy_arn} to role {role}")
            }
            Step::PutInlinePolicy {
                role,
                policy_name,
                previous,
                ..
            } => match previous {
                Some(_) => format!("restored inline policy {policy_name} of role {role}"),
                None => format!("deleted inline policy {policy_name} of role {role}"),
            },
            Step::DeleteInlinePolicy {
                role, policy_name, ..
            } => format!("restored inline policy {policy_name} of role {role}"),
            Step::DeleteRole { role } => format!("(role {role} cannot be restored)"),
            Step::CreateNamespace { namespace } => format!("deleted namespace {namespace}"),
            Step::ApplyServiceAccount {
                namespace,
                name,
                previous,
                ..
            } => match previous {
                None => format!("deleted service account {namespace}/{name}"),
                Some(_) => format!(
                    "restored the annotations and labels of service account {namespace}/{name}"
                ),
            },
            Step::RemoveServiceAccountAnnotations {
                namespace, name, ..
            } => format!("restored the annotations of service account {namespace}/{name}"),
            Step::DeleteServiceAccount {
                namespace, name, ..
            } => format!("re-created service account {namespace}/{name}"),
        }
    }
}

/// What applying a step did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// False when the step found its work already done (e.g. a namespace created concurrently): nothing to
    /// undo then.
    pub changed: bool,
    /// The ARN of what the step created, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

impl Outcome {
    pub fn changed() -> Outcome {
        Outcome {
            changed: true,
            arn: None,
        }
    }

    pub fn unchanged() -> Outcome {
        Outcome {
            changed: false,
            arn: None,
        }
    }

    pub fn created(arn: impl Into<String>) -> Outcome {
        Outcome {
            changed: true,
            arn: Some(arn.into()),
        }
    }
}

/// Carries out steps. The live implementation talks to AWS and Kubernetes; tests use fakes.
#[allow(async_fn_in_trait)]
pub trait Executor {
    async fn apply(&self, step: &Step) -> Result<Outcome>;
    async fn undo(&self, step: &Step, outcome: &Outcome) -> Result<()>;
}

/// An ordered list of steps for one subject, with what is already as wanted.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// What the plan is about, e.g. `service account shop/my-app`.
    pub subject: String,
    pub steps: Vec<Step>,
    /// Things checked and found as wanted.
    pub up_to_date: Vec<String>,
    /// Things deliberately left alone, and other caveats.
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn new(subject: impl Into<String>) -> Plan {
        Plan {
            subject: subject.into(),
            ..Default::default()
        }
    }

    pub fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    pub fn ok(&mut self, what: impl Into<String>) {
        self.up_to_date.push(what.into());
    }

    pub fn warn(&mut self, what: impl Into<String>) {
        self.warnings.push(what.into());
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as text. With `documents`, trust and inline policies are printed in full.
    pub fn render(&self, documents: bool) -> String {
        let mut out = String::new();
        if self.steps.is_empty() {
            let _ = writeln!(out, "{}: up to date, nothing to change", self.subject);
        } else {
            let _ = writeln!(out, "Plan for {}:", self.subject);
            for (i, step) in self.steps.iter().enumerate() {
                let _ = writeln!(out, "  {}. {}", i + 1, step.summary());
                if documents {
                    for (title, doc) in step.documents() {
                        let _ = writeln!(out, "     {title}:");
                        let pretty = serde_json::to_string_pretty(doc).unwrap_or_default();
                        for line in pretty.lines() {
                            let _ = writeln!(out, "       {line}");
                        }
                    }
                }
            }
        }
        for ok in &self.up_to_date {
            let _ = writeln!(out, "  = up to date: {ok}");
        }
        for w in &self.warnings {
            let _ = writeln!(out, "  ! {w}");
        }
        out
    }

    /// Apply every step in order, calling `progress` after each. On failure, undo the completed steps in
    /// reverse order and return [`Error::ApplyFailed`] naming the failed step, the cause and the rollback.
    pub async fn apply<E: Executor>(
        &self,
        executor: &E,
        mut progress: impl FnMut(&Step, &Outcome),
    ) -> Result<Vec<Outcome>> {
        let mut done: Vec<(&Step, Outcome)> = Vec::new();
        for step in &self.steps {
            match executor.apply(step).await {
                Ok(outcome) => {
                    progress(step, &outcome);
                    done.push((step, outcome));
                }
                Err(cause) => {
                    let mut rolled_back = Vec::new();
                    let mut rollback_failed = Vec::new();
                    for (step, outcome) in done.iter().rev() {
                        if !outcome.changed {
                            continue;
                        }
                        match executor.undo(step, outcome).await {
                            Ok(()) => rolled_back.push(step.undo_summary()),
                            Err(e) => rollback_failed
                                .push(format!("{} (undo failed: {e})", step.summary())),
                        }
                    }
                    return Err(Error::ApplyFailed {
                        step: step.summary(),
                        cause: Box::new(cause),
                        rolled_back,
                        rollback_failed,
                    });
                }
            }
        }
        Ok(done.into_iter().map(|(_, o)| o).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records calls; fails `apply` of the step whose summary contains `fail_on`.
    struct Fake {
        fail_on: &'static str,
        fail_undo_on: &'static str,
        log: Mutex<Vec<String>>,
    }

    impl Executor for Fake {
        async fn apply(&self, step: &Step) -> Result<Outcome> {
            let s = step.summary();
            if s.contains(self.fail_on) {
                return Err(Error::NotFound(format!("boom: {s}")));
            }
            self.log.lock().unwrap().push(format!("apply {s}"));
            if matches!(step, Step::CreateNamespace { .. }) {
                return Ok(Outcome::unchanged());
            }
            Ok(Outcome::changed())
        }

        async fn undo(&self, step: &Step, _: &Outcome) -> Result<()> {
            let s = step.summary();
            if !self.fail_undo_on.is_empty() && s.contains(self.fail_undo_on) {
                return Err(Error::NotFound("undo boom".into()));
            }
            self.log.lock().unwrap().push(format!("undo {s}"));
            Ok(())
        }
    }

    fn plan() -> Plan {
        let mut plan = Plan::new("service account ns/sa");
        plan.push(Step::CreateRole {
            role: NewRole {
                name: "r".into(),
                path: "/".into(),
                trust: serde_json::json!({"Version": "2012-10-17", "Statement": []}),
                description: "d".into(),
                max_session_duration: None,
                permissions_boundary: None,
                tags: vec![("managed-by".into(), "kubectl-irsa".into())],
            },
        });
        plan.push(Step::AttachPolicy {
            role: "r".into(),
            policy_arn: "arn:aws:iam::1:policy/p".into(),
        });
        plan.push(Step::CreateNamespace {
            namespace: "ns".into(),
        });
        plan.push(Step::ApplyServiceAccount {
            namespace: "ns".into(),
            name: "sa".into(),
            annotations: BTreeMap::from([("eks.amazonaws.com/role-arn".into(), "arn".into())]),
            labels: BTreeMap::new(),
            previous: Some(SaSnapshot::default()),
        });
        plan.push(Step::PutInlinePolicy {
            role: "r".into(),
            policy_name: "p".into(),
            document: Value::Null,
            previous: None,
        });
        plan
    }

    fn run(fake: &Fake) -> Result<Vec<Outcome>> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(plan().apply(fake, |_, _| {}))
    }

    #[test]
    fn success_applies_in_order() {
        let fake = Fake {
            fail_on: "never",
            fail_undo_on: "",
            log: Mutex::default(),
        };
        let outcomes = run(&fake).unwrap();
        assert_eq!(outcomes.len(), 5);
        let log = fake.log.lock().unwrap();
        assert!(log[0].starts_with("apply create IAM role r"));
        assert!(log[4].starts_with("apply put inline policy p"));
    }

    #[test]
    fn failure_rolls_back_in_reverse_skipping_unchanged() {
        let fake = Fake {
            fail_on: "inline policy",
            fail_undo_on: "",
            log: Mutex::default(),
        };
        let err = run(&fake).unwrap_err();
        let log = fake.log.lock().unwrap().clone();
        let undos: Vec<_> = log.iter().filter(|l| l.starts_with("undo")).collect();
        assert_eq!(undos.len(), 3, "{log:?}");
        assert!(undos[0].contains("annotate service account ns/sa"));
        assert!(undos[1].contains("attach policy"));
        assert!(undos[2].contains("create IAM role r"));
        let Error::ApplyFailed {
            step,
            rolled_back,
            rollback_failed,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert!(step.contains("put inline policy p"));
        assert_eq!(
            rolled_back,
            &vec![
                "restored the annotations and labels of service account ns/sa".to_string(),
                "detached policy arn:aws:iam::1:policy/p from role r".to_string(),
                "deleted role r".to_string(),
            ]
        );
        assert!(rollback_failed.is_empty());
        assert!(err.to_string().contains("rolled back"));
    }

    #[test]
    fn failed_undo_is_reported_and_rollback_continues() {
        let fake = Fake {
            fail_on: "inline policy",
            fail_undo_on: "attach policy",
            log: Mutex::default(),
        };
        let err = run(&fake).unwrap_err();
        let Error::ApplyFailed {
            rolled_back,
            rollback_failed,
            ..
        } = &err
        else {
            panic!()
        };
        assert_eq!(rolled_back.len(), 2);
        assert_eq!(rollback_failed.len(), 1);
        assert!(err.to_string().contains("COULD NOT ROLL BACK"));
    }

    #[test]
    fn first_step_failure_rolls_back_nothing() {
        let fake = Fake {
            fail_on: "create IAM role",
            fail_undo_on: "",
            log: Mutex::default(),
        };
        let err = run(&fake).unwrap_err();
        assert!(err.to_string().contains("nothing was rolled back"));
    }

    #[test]
    fn render_shows_documents_on_request() {
        let p = plan();
        let short = p.render(false);
        assert!(short.contains("1. create IAM role r (path /, tags managed-by=kubectl-irsa)"));
        assert!(!short.contains("trust policy:"));
        let long = p.render(true);
        assert!(long.contains("trust policy:"));
        assert!(long.contains("\"Version\": \"2012-10-17\""));
        let mut empty = Plan::new("x");
        empty.ok("role r");
        assert!(empty.render(false).contains("x: up to date"));
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["steps"][0]["action"], "createRole");
        assert_eq!(json["steps"][1]["policyArn"], "arn:aws:iam::1:policy/p");
        assert_eq!(
            json["steps"][0]["role"]["tags"]["managed-by"],
            "kubectl-irsa"
        );
    }
}
