//! Plans: what a command will change, computed before anything is touched, printable (that is `--dry-run`),
//! and applied step by step. When a step fails, the steps this run already did are undone in reverse order
//! and the error says what was rolled back.

mod eks_steps;
mod steps;

use std::fmt::Write as _;

use serde::Serialize;

pub use eks_steps::{association_id_of, EksStep};
pub use steps::{ClusterStep, IamStep, PlanStep, SaSnapshot, Step};

use crate::error::{Error, Result};

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

/// Carries out steps of type `S`. The live implementations talk to AWS and Kubernetes; tests use fakes.
#[allow(async_fn_in_trait)]
pub trait Executor<S> {
    async fn apply(&self, step: &S) -> Result<Outcome>;
    async fn undo(&self, step: &S, outcome: &Outcome) -> Result<()>;
}

/// An ordered list of steps for one subject, with what is already as wanted. `S` says which clients
/// applying it needs ([`IamStep`]: AWS; [`ClusterStep`]: Kubernetes; [`Step`]: both).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan<S = Step> {
    /// What the plan is about, e.g. `service account shop/my-app`.
    pub subject: String,
    pub steps: Vec<S>,
    /// Things checked and found as wanted.
    pub up_to_date: Vec<String>,
    /// Things deliberately left alone, and other caveats.
    pub warnings: Vec<String>,
}

impl<S> Plan<S> {
    pub fn new(subject: impl Into<String>) -> Plan<S> {
        Plan {
            subject: subject.into(),
            steps: Vec::new(),
            up_to_date: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn push(&mut self, step: S) {
        self.steps.push(step);
    }

    /// The same plan as steps of a wider type (an IAM-only plan as part of a binding's).
    pub fn widen<T: From<S>>(self) -> Plan<T> {
        Plan {
            subject: self.subject,
            steps: self.steps.into_iter().map(T::from).collect(),
            up_to_date: self.up_to_date,
            warnings: self.warnings,
        }
    }

    /// This plan, then `next`'s steps, checks and warnings (the subject stays this plan's).
    pub fn then<T>(self, next: Plan<T>) -> Plan<Step>
    where
        Step: From<S> + From<T>,
    {
        let mut plan = self.widen::<Step>();
        let next = next.widen::<Step>();
        plan.steps.extend(next.steps);
        plan.up_to_date.extend(next.up_to_date);
        plan.warnings.extend(next.warnings);
        plan
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
}

impl<S: PlanStep> Plan<S> {
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
    pub async fn apply<E: Executor<S>>(
        &self,
        executor: &E,
        mut progress: impl FnMut(&S, &Outcome),
    ) -> Result<Vec<Outcome>> {
        let mut done: Vec<(&S, Outcome)> = Vec::new();
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
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use serde_json::Value;

    use super::*;
    use crate::aws::NewRole;

    /// Records calls; fails `apply` of the step whose summary contains `fail_on`.
    struct Fake {
        fail_on: &'static str,
        fail_undo_on: &'static str,
        log: Mutex<Vec<String>>,
    }

    impl Executor<Step> for Fake {
        async fn apply(&self, step: &Step) -> Result<Outcome> {
            let s = step.summary();
            if s.contains(self.fail_on) {
                return Err(Error::NotFound(format!("boom: {s}")));
            }
            self.log.lock().unwrap().push(format!("apply {s}"));
            if matches!(step, Step::Cluster(ClusterStep::CreateNamespace { .. })) {
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
        plan.push(
            IamStep::CreateRole {
                role: NewRole {
                    name: "r".into(),
                    path: "/".into(),
                    trust: serde_json::json!({"Version": "2012-10-17", "Statement": []}),
                    description: "d".into(),
                    max_session_duration: None,
                    permissions_boundary: None,
                    tags: vec![("managed-by".into(), "kubectl-irsa".into())],
                },
            }
            .into(),
        );
        plan.push(
            IamStep::AttachPolicy {
                role: "r".into(),
                policy_arn: "arn:aws:iam::1:policy/p".into(),
            }
            .into(),
        );
        plan.push(
            ClusterStep::CreateNamespace {
                namespace: "ns".into(),
            }
            .into(),
        );
        plan.push(
            ClusterStep::ApplyServiceAccount {
                namespace: "ns".into(),
                name: "sa".into(),
                annotations: BTreeMap::from([("eks.amazonaws.com/role-arn".into(), "arn".into())]),
                labels: BTreeMap::new(),
                previous: Some(SaSnapshot::default()),
            }
            .into(),
        );
        plan.push(
            IamStep::PutInlinePolicy {
                role: "r".into(),
                policy_name: "p".into(),
                document: Value::Null,
                previous: None,
            }
            .into(),
        );
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
        let mut empty: Plan = Plan::new("x");
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
