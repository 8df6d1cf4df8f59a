//! `kubectl irsa create`: plan the role, its trust, its policies and the service account; print the plan
//! (`--dry-run`) or apply it with rollback. `-f` does the same for every entry of an eksctl ClusterConfig.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use irsa_policy::{
    irsa_trust_statement, role_arn, service_account_subject, trust_admits, wildcard_match,
    PolicyDocument, DEFAULT_AUDIENCE,
};
use serde::Serialize;
use serde_json::{json, Value};

use super::{print, validate_policy_arn, validate_role_arn, warn, Ctx, Issuer};
use crate::aws::{Aws, NewRole, Provider, MANAGED_BY_TAG, MANAGED_BY_VALUE};
use crate::cli::{CreateArgs, IssuerArgs, OutputFormat};
use crate::clusterconfig::{ClusterConfig, ServiceAccountConfig};
use crate::error::{Error, Result};
use crate::executor::Live;
use crate::kube::{
    annotations, is_dns_label, is_dns_subdomain, is_managed, labels, Kube, AUDIENCE_ANNOTATION,
    MANAGED_BY_LABEL, ROLE_ARN_ANNOTATION,
};
use crate::naming::{cluster_label, default_role_name, is_valid_role_name, is_valid_role_path};
use crate::output::structured;
use crate::plan::{Plan, SaSnapshot, Step};

/// Name of the inline policy `--inline-policy` / `attachPolicy` puts on the role.
pub const INLINE_POLICY_NAME: &str = "kubectl-irsa";
/// Attempts per AWS call with `-f` (many calls at once: throttling is likely).
const BULK_AWS_ATTEMPTS: u32 = 10;

/// Everything one binding needs, from flags or from a cluster-config entry.
#[derive(Debug, Clone, Default)]
pub struct CreateSpec {
    pub namespace: String,
    pub name: String,
    pub role_name: Option<String>,
    pub attach_policy_arns: Vec<String>,
    pub inline_policy: Option<Value>,
    pub attach_role_arn: Option<String>,
    pub permissions_boundary: Option<String>,
    pub role_path: Option<String>,
    pub max_session_duration: Option<i32>,
    pub tags: Vec<(String, String)>,
    pub audience: String,
    pub subject_pattern: Option<String>,
    pub role_only: bool,
    pub override_existing: bool,
    pub add_trust: bool,
    /// Extra metadata for the service account (from a cluster config).
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl CreateSpec {
    /// Checks that need no API call; errors are usage errors.
    pub fn validate(&self) -> Result<()> {
        if !is_dns_subdomain(&self.name) {
            return Err(Error::usage(format!(
                "service account name {:?} is not valid: lowercase letters, digits, '-' and '.', starting and \
                 ending with a letter or digit, at most 253",
                self.name
            )));
        }
        if !is_dns_label(&self.namespace) {
            return Err(Error::usage(format!(
                "namespace {:?} is not valid: lowercase letters, digits and '-', at most 63",
                self.namespace
            )));
        }
        if let Some(r) = &self.role_name {
            if !is_valid_role_name(r) {
                return Err(Error::usage(format!(
                    "--role-name {r:?} is not a valid IAM role name: 1-64 of letters, digits and +=,.@_-"
                )));
            }
        }
        if let Some(p) = &self.role_path {
            if !is_valid_role_path(p) {
                return Err(Error::usage(format!(
                    "--role-path {p:?} is not a valid IAM path: \"/\" or \"/a/b/\" (starts and ends with /)"
                )));
            }
        }
        for arn in &self.attach_policy_arns {
            validate_policy_arn("--attach-policy-arn", arn)?;
        }
        if let Some(arn) = &self.permissions_boundary {
            validate_policy_arn("--permissions-boundary", arn)?;
        }
        if let Some(arn) = &self.attach_role_arn {
            validate_role_arn("--attach-role-arn", arn)?;
        }
        if self.audience.trim().is_empty() {
            return Err(Error::usage("--audience must not be empty"));
        }
        if let Some(doc) = &self.inline_policy {
            PolicyDocument::from_value(doc.clone()).map_err(|e| {
                Error::usage(format!("the inline policy is not a valid IAM policy: {e}"))
            })?;
        }
        if let Some(pattern) = &self.subject_pattern {
            let full = self.subject_pattern_full(pattern);
            let subject = service_account_subject(&self.namespace, &self.name);
            if !wildcard_match(&full, &subject) {
                return Err(Error::usage(format!(
                    "--subject-pattern {pattern:?} ({full}) does not match the service account itself ({subject})"
                )));
            }
        }
        Ok(())
    }

    fn subject_pattern_full(&self, pattern: &str) -> String {
        if pattern.starts_with("system:serviceaccount:") {
            pattern.to_string()
        } else {
            service_account_subject(&self.namespace, pattern)
        }
    }

    fn subject(&self) -> String {
        service_account_subject(&self.namespace, &self.name)
    }

    /// The role's name: from `--attach-role-arn`, `--role-name`, else the deterministic default.
    pub fn role_name(&self, cluster: &str) -> String {
        if let Some(arn) = &self.attach_role_arn {
            if let Some(name) = irsa_policy::role_name_from_arn(arn) {
                return name;
            }
        }
        self.role_name
            .clone()
            .unwrap_or_else(|| default_role_name(cluster, &self.namespace, &self.name))
    }
}

/// The cluster side every binding shares.
#[derive(Debug, Clone)]
pub struct Target {
    pub issuer: Issuer,
    pub provider: Provider,
    pub account: String,
    pub cluster_label: String,
}

/// A computed plan and the role it binds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    pub namespace: String,
    pub name: String,
    pub role_name: String,
    pub role_arn: String,
    pub issuer: String,
    pub plan: Plan,
}

/// Compute what has to change for `spec`, reading (never writing) AWS and Kubernetes.
pub async fn plan_create(
    spec: &CreateSpec,
    target: &Target,
    aws: &Aws,
    kube: Option<&Kube>,
) -> Result<Planned> {
    let subject = spec.subject();
    let role_name = spec.role_name(&target.cluster_label);
    let mut plan = Plan::new(format!(
        "service account {}/{} (role {role_name})",
        spec.namespace, spec.name
    ));
    plan.ok(format!(
        "IAM OIDC provider {} lists audience {}",
        target.provider.arn, spec.audience
    ));

    let statement = irsa_trust_statement(
        &target.account,
        &target.issuer.url,
        &spec.namespace,
        &spec.name,
        &spec.audience,
        spec.subject_pattern.as_deref(),
    );
    let existing = aws.get_role(&role_name).await?;
    if spec.attach_role_arn.is_some() && existing.is_none() {
        return Err(Error::NotFound(format!(
            "role {role_name} (--attach-role-arn) does not exist in this account; omit --attach-role-arn to \
             create a role"
        )));
    }
    let role_arn = match &existing {
        Some(role) => role.arn.clone(),
        None => role_arn(
            &target.account,
            spec.role_path.as_deref().unwrap_or("/"),
            &role_name,
        ),
    };

    let attached = match &existing {
        Some(role) => {
            plan_existing_role(spec, target, role, &statement, &subject, &mut plan)?;
            aws.attached_policies(&role.name).await?
        }
        None => {
            let mut tags = vec![(MANAGED_BY_TAG.to_string(), MANAGED_BY_VALUE.to_string())];
            for (k, v) in &spec.tags {
                if k != MANAGED_BY_TAG {
                    tags.push((k.clone(), v.clone()));
                }
            }
            plan.push(Step::CreateRole {
                role: NewRole {
                    name: role_name.clone(),
                    path: spec.role_path.clone().unwrap_or_else(|| "/".into()),
                    trust: json!({ "Version": "2012-10-17", "Statement": [statement] }),
                    description: format!(
                        "IRSA role for service account {}/{} (kubectl-irsa)",
                        spec.namespace, spec.name
                    ),
                    max_session_duration: spec.max_session_duration,
                    permissions_boundary: spec.permissions_boundary.clone(),
                    tags,
                },
            });
            Vec::new()
        }
    };

    let mut seen = Vec::new();
    for arn in &spec.attach_policy_arns {
        if seen.contains(arn) {
            continue;
        }
        seen.push(arn.clone());
        if attached.contains(arn) {
            plan.ok(format!("policy {arn} is attached"));
        } else {
            plan.push(Step::AttachPolicy {
                role: role_name.clone(),
                policy_arn: arn.clone(),
            });
        }
    }

    if let Some(doc) = &spec.inline_policy {
        let previous = match &existing {
            Some(_) => aws.inline_policy(&role_name, INLINE_POLICY_NAME).await?,
            None => None,
        };
        if previous.as_ref() == Some(doc) {
            plan.ok(format!("inline policy {INLINE_POLICY_NAME} is as given"));
        } else {
            plan.push(Step::PutInlinePolicy {
                role: role_name.clone(),
                policy_name: INLINE_POLICY_NAME.into(),
                document: doc.clone(),
                previous,
            });
        }
    }

    if !spec.role_only {
        let kube = kube.ok_or_else(|| Error::Conflict("internal: no Kubernetes client".into()))?;
        plan_service_account(spec, &role_arn, kube, &mut plan).await?;
    }

    Ok(Planned {
        namespace: spec.namespace.clone(),
        name: spec.name.clone(),
        role_name,
        role_arn,
        issuer: target.issuer.url.clone(),
        plan,
    })
}

/// An existing role: its trust must admit the service account (or `--add-trust` adds a statement); the
/// session duration, boundary and tags converge to what was asked. Policies are only ever added.
fn plan_existing_role(
    spec: &CreateSpec,
    target: &Target,
    role: &crate::aws::Role,
    statement: &Value,
    subject: &str,
    plan: &mut Plan,
) -> Result<()> {
    if !role.is_managed() {
        plan.warn(format!(
            "role {} exists and is not managed by kubectl-irsa: it is used as is, and `delete` will leave it",
            role.name
        ));
    }
    let evaluation = PolicyDocument::from_value(role.trust.clone())
        .map(|doc| trust_admits(&doc, &target.provider.arn, subject, &spec.audience));
    match evaluation {
        Ok(e) if e.is_allowed() => plan.ok(format!(
            "trust policy of role {} admits {subject} (audience {})",
            role.name, spec.audience
        )),
        other => {
            let explanation = match other {
                Ok(e) => e.explain(),
                Err(e) => format!("the trust policy cannot be parsed: {e}"),
            };
            if !spec.add_trust {
                return Err(Error::TrustMismatch {
                    role: role.name.clone(),
                    subject: subject.to_string(),
                    explanation,
                    wanted: serde_json::to_string_pretty(statement).unwrap_or_default(),
                });
            }
            let mut trust = role.trust.clone();
            match trust.get_mut("Statement") {
                Some(Value::Array(statements)) => statements.push(statement.clone()),
                Some(single @ Value::Object(_)) => {
                    let first = single.take();
                    *single = Value::Array(vec![first, statement.clone()]);
                }
                _ => trust = json!({ "Version": "2012-10-17", "Statement": [statement] }),
            }
            plan.push(Step::UpdateTrust {
                role: role.name.clone(),
                trust,
                previous: role.trust.clone(),
            });
        }
    }
    if let Some(seconds) = spec.max_session_duration {
        if role.max_session_duration != Some(seconds) {
            plan.push(Step::UpdateMaxSessionDuration {
                role: role.name.clone(),
                seconds,
                previous: role.max_session_duration,
            });
        }
    }
    if let Some(boundary) = &spec.permissions_boundary {
        if role.permissions_boundary.as_ref() != Some(boundary) {
            plan.push(Step::PutPermissionsBoundary {
                role: role.name.clone(),
                policy_arn: boundary.clone(),
                previous: role.permissions_boundary.clone(),
            });
        }
    }
    let missing: Vec<(String, String)> = spec
        .tags
        .iter()
        .filter(|(k, v)| !role.tags.iter().any(|(rk, rv)| rk == k && rv == v))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let previous = missing
            .iter()
            .map(|(k, _)| {
                let old = role
                    .tags
                    .iter()
                    .find(|(rk, _)| rk == k)
                    .map(|(_, v)| v.clone());
                (k.clone(), old)
            })
            .collect();
        plan.push(Step::TagRole {
            role: role.name.clone(),
            tags: missing,
            previous,
        });
    }
    Ok(())
}

async fn plan_service_account(
    spec: &CreateSpec,
    role_arn: &str,
    kube: &Kube,
    plan: &mut Plan,
) -> Result<()> {
    let (ns, name) = (&spec.namespace, &spec.name);
    let namespace_exists = kube.get_namespace(ns).await?.is_some();
    let sa = if namespace_exists {
        kube.get_service_account(ns, name).await?
    } else {
        plan.push(Step::CreateNamespace {
            namespace: ns.clone(),
        });
        None
    };
    let mut want_annotations = spec.annotations.clone();
    want_annotations.insert(ROLE_ARN_ANNOTATION.into(), role_arn.to_string());
    if spec.audience != DEFAULT_AUDIENCE {
        want_annotations.insert(AUDIENCE_ANNOTATION.into(), spec.audience.clone());
    }
    let mut want_labels = spec.labels.clone();
    let Some(sa) = sa else {
        want_labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
        plan.push(Step::ApplyServiceAccount {
            namespace: ns.clone(),
            name: name.clone(),
            annotations: want_annotations,
            labels: want_labels,
            previous: None,
        });
        return Ok(());
    };
    let current_annotations = annotations(&sa.metadata);
    let current_labels = labels(&sa.metadata);
    if is_managed(&sa.metadata) {
        // Keep owning the label: an apply without it would remove it.
        want_labels.insert(
            MANAGED_BY_LABEL.into(),
            crate::kube::MANAGED_BY_VALUE.into(),
        );
    }
    if let Some(current) = current_annotations.get(ROLE_ARN_ANNOTATION) {
        if current != role_arn && !spec.override_existing {
            plan.warn(format!(
                "service account {ns}/{name} is bound to another role ({current}); left alone \
                 (pass --override-existing-serviceaccounts to bind it to {role_arn})"
            ));
            return Ok(());
        }
    }
    let annotations_ok = want_annotations
        .iter()
        .all(|(k, v)| current_annotations.get(k) == Some(v));
    let labels_ok = want_labels
        .iter()
        .all(|(k, v)| current_labels.get(k) == Some(v));
    if annotations_ok && labels_ok {
        plan.ok(format!(
            "service account {ns}/{name} is annotated with {role_arn}"
        ));
        return Ok(());
    }
    let previous = SaSnapshot {
        annotations: want_annotations
            .keys()
            .filter_map(|k| current_annotations.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
        labels: want_labels
            .keys()
            .filter_map(|k| current_labels.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
    };
    plan.push(Step::ApplyServiceAccount {
        namespace: ns.clone(),
        name: name.clone(),
        annotations: want_annotations,
        labels: want_labels,
        previous: Some(previous),
    });
    Ok(())
}

/// The result of one binding, for output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    namespace: String,
    name: String,
    role_arn: String,
    dry_run: bool,
    /// `planned` (dry run), `applied`, `up-to-date` or `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    plan: Option<Plan>,
}

fn read_inline_policy(path: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::InvalidFile {
        path: path.to_path_buf(),
        message: format!("the inline policy is not JSON: {e}"),
    })
}

pub async fn run(ctx: Ctx, args: CreateArgs) -> Result<()> {
    if let Some(path) = args.config_file.clone() {
        return run_config(ctx, args, &path).await;
    }
    let spec = CreateSpec {
        namespace: ctx.namespace()?,
        name: args.name.clone().unwrap_or_default(),
        role_name: args.role_name.clone(),
        attach_policy_arns: args.attach_policy_arn.clone(),
        inline_policy: args
            .inline_policy
            .as_deref()
            .map(read_inline_policy)
            .transpose()?,
        attach_role_arn: args.attach_role_arn.clone(),
        permissions_boundary: args.permissions_boundary.clone(),
        role_path: args.role_path.clone(),
        max_session_duration: args.max_session_duration,
        tags: args.tags.clone(),
        audience: args.audience.clone(),
        subject_pattern: args.subject_pattern.clone(),
        role_only: args.role_only,
        override_existing: args.override_existing_serviceaccounts,
        add_trust: args.add_trust,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };
    spec.validate()?;
    let target = resolve_target(&ctx, &args.issuer, &spec.audience, None).await?;
    let aws = ctx.aws().await?;
    let kube = if spec.role_only {
        None
    } else {
        Some(ctx.kube().await?)
    };
    let planned = plan_create(&spec, &target, aws, kube).await?;
    let (report, error) = execute(&ctx, &planned, aws, kube, args.dry_run, true).await;
    if let Some(text) = structured(ctx.output(), &report)? {
        print(&text);
    }
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Issuer, provider (checked for the audience), account and the cluster label for role names.
async fn resolve_target(
    ctx: &Ctx,
    issuer_args: &IssuerArgs,
    audience: &str,
    cluster_name: Option<&str>,
) -> Result<Target> {
    let issuer = ctx.issuer(issuer_args).await?;
    let provider = ctx.provider(&issuer, audience).await?;
    let account = irsa_policy::account_from_arn(&provider.arn)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            Error::Conflict(format!(
                "cannot read the account from provider ARN {}",
                provider.arn
            ))
        })?;
    let name = issuer_args
        .cluster
        .clone()
        .or(cluster_name.map(str::to_string))
        .or_else(|| ctx.context_cluster());
    let label = cluster_label(name.as_deref(), &issuer.url);
    Ok(Target {
        issuer,
        provider,
        account,
        cluster_label: label,
    })
}

/// Print (table mode) and apply one plan. A failure is recorded in the report (so `-f` can go on) and
/// returned.
async fn execute(
    ctx: &Ctx,
    planned: &Planned,
    aws: &Aws,
    kube: Option<&Kube>,
    dry_run: bool,
    verbose: bool,
) -> (Report, Option<Error>) {
    let table = ctx.output() == OutputFormat::Table;
    let mut report = Report {
        namespace: planned.namespace.clone(),
        name: planned.name.clone(),
        role_arn: planned.role_arn.clone(),
        dry_run,
        result: "planned",
        error: None,
        plan: Some(planned.plan.clone()),
    };
    if dry_run {
        if table && verbose {
            print(&planned.plan.render(true));
            print("dry run: nothing was changed (run without --dry-run to apply this plan)\n");
        }
        return (report, None);
    }
    if planned.plan.is_empty() {
        report.result = "up-to-date";
        if table && verbose {
            print(&planned.plan.render(false));
        }
        return (report, None);
    }
    if table && verbose {
        print(&format!("Applying plan for {}:\n", planned.plan.subject));
    }
    let executor = Live {
        aws: Some(aws),
        kube,
    };
    let applied = planned
        .plan
        .apply(&executor, |step, outcome| {
            if table && verbose {
                let note = if outcome.changed {
                    ""
                } else {
                    " (already done)"
                };
                print(&format!("  + {}{note}\n", step.summary()));
            }
        })
        .await;
    match applied {
        Ok(_) => {
            report.result = "applied";
            if table && verbose {
                for ok in &planned.plan.up_to_date {
                    print(&format!("  = up to date: {ok}\n"));
                }
                for w in &planned.plan.warnings {
                    warn(w);
                }
                print(&format!(
                    "{}/{} -> {}\n",
                    planned.namespace, planned.name, planned.role_arn
                ));
            }
        }
        Err(e) => {
            report.result = "failed";
            report.error = Some(e.to_string());
            return (report, Some(e));
        }
    }
    (report, None)
}

/// Turn a cluster-config entry into a spec, with the command line's shared flags.
fn spec_from_config(
    entry: &ServiceAccountConfig,
    default_ns: &str,
    args: &CreateArgs,
) -> CreateSpec {
    let mut tags: Vec<(String, String)> = entry.tags.clone().into_iter().collect();
    tags.sort();
    CreateSpec {
        namespace: entry
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| default_ns.to_string()),
        name: entry.metadata.name.clone(),
        role_name: entry.role_name.clone(),
        attach_policy_arns: entry.attach_policy_arns.clone(),
        inline_policy: entry.attach_policy.clone(),
        attach_role_arn: entry.attach_role_arn.clone(),
        permissions_boundary: entry.permissions_boundary.clone(),
        role_path: None,
        max_session_duration: None,
        tags,
        audience: args.audience.clone(),
        subject_pattern: entry.subject_pattern.clone(),
        role_only: entry.role_only.unwrap_or(false),
        override_existing: args.override_existing_serviceaccounts,
        add_trust: args.add_trust,
        labels: entry.metadata.labels.clone(),
        annotations: entry.metadata.annotations.clone(),
    }
}

async fn run_config(mut ctx: Ctx, args: CreateArgs, path: &std::path::Path) -> Result<()> {
    let config = ClusterConfig::load(path)?;
    ctx.set_default_region(config.metadata.region.clone());
    let ctx = ctx.with_aws_attempts(BULK_AWS_ATTEMPTS);
    // Entries without a namespace use "default", as eksctl does.
    let specs: Vec<CreateSpec> = config
        .service_accounts()
        .iter()
        .map(|e| spec_from_config(e, "default", &args))
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        spec.validate().map_err(|e| {
            Error::usage(format!(
                "{}: iam.serviceAccounts[{i}] ({}/{}): {e}",
                path.display(),
                spec.namespace,
                spec.name
            ))
        })?;
    }
    let mut seen = std::collections::HashSet::new();
    for spec in &specs {
        if !seen.insert((spec.namespace.clone(), spec.name.clone())) {
            return Err(Error::usage(format!(
                "{}: service account {}/{} appears twice in iam.serviceAccounts",
                path.display(),
                spec.namespace,
                spec.name
            )));
        }
    }

    // The issuer: flags first, else EKS for metadata.name, else (not an EKS cluster) the Kubernetes API.
    let cluster_name = config.metadata.name.clone();
    let issuer_args = if args.issuer.cluster.is_some() || args.issuer.oidc_issuer.is_some() {
        args.issuer.clone()
    } else {
        IssuerArgs {
            cluster: cluster_name.clone(),
            oidc_issuer: None,
        }
    };
    let target =
        match resolve_target(&ctx, &issuer_args, &args.audience, cluster_name.as_deref()).await {
            Err(Error::NotFound(msg))
                if issuer_args.cluster.is_some() && args.issuer.cluster.is_none() =>
            {
                warn(&format!(
                    "{msg}\nusing the issuer the Kubernetes API reports instead"
                ));
                resolve_target(
                    &ctx,
                    &IssuerArgs::default(),
                    &args.audience,
                    cluster_name.as_deref(),
                )
                .await?
            }
            other => other?,
        };
    let aws = ctx.aws().await?;
    let kube = if specs.iter().all(|s| s.role_only) {
        None
    } else {
        Some(ctx.kube().await?)
    };

    let total = specs.len();
    let done = AtomicUsize::new(0);
    let table = ctx.output() == OutputFormat::Table;
    let concurrency = usize::from(args.concurrency);
    let reports: Vec<Report> = futures::stream::iter(specs.iter())
        .map(|spec| {
            let (target, ctx, done) = (&target, &ctx, &done);
            async move {
                let report = match plan_create(spec, target, aws, kube).await {
                    Ok(planned) => {
                        if args.dry_run && table {
                            print(&planned.plan.render(true));
                        }
                        execute(ctx, &planned, aws, kube, args.dry_run, false)
                            .await
                            .0
                    }
                    Err(e) => Report {
                        namespace: spec.namespace.clone(),
                        name: spec.name.clone(),
                        role_arn: String::new(),
                        dry_run: args.dry_run,
                        result: "failed",
                        error: Some(e.to_string()),
                        plan: None,
                    },
                };
                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                let status = match &report.error {
                    Some(e) => format!("FAILED: {e}"),
                    None => report.result.to_string(),
                };
                eprintln!("[{n}/{total}] {}/{}: {status}", spec.namespace, spec.name);
                report
            }
        })
        .buffered(concurrency)
        .collect()
        .await;

    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    match structured(ctx.output(), &reports)? {
        Some(text) => print(&text),
        None => {
            let rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    vec![
                        r.namespace.clone(),
                        r.name.clone(),
                        if r.role_arn.is_empty() {
                            "-".into()
                        } else {
                            r.role_arn.clone()
                        },
                        r.result.to_string(),
                    ]
                })
                .collect();
            print(&crate::output::table(
                &["NAMESPACE", "NAME", "ROLE-ARN", "RESULT"],
                &rows,
            ));
            if args.dry_run {
                print("dry run: nothing was changed\n");
            }
        }
    }
    if failed > 0 {
        for r in reports.iter().filter(|r| r.error.is_some()) {
            eprintln!(
                "error: {}/{}: {}",
                r.namespace,
                r.name,
                r.error.as_deref().unwrap_or_default()
            );
        }
        return Err(Error::Several { failed, total });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CreateSpec {
        CreateSpec {
            namespace: "shop".into(),
            name: "app-1".into(),
            audience: DEFAULT_AUDIENCE.into(),
            ..Default::default()
        }
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(spec().validate().is_ok());
        let mut s = spec();
        s.name = "Bad_Name".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("service account name"));
        let mut s = spec();
        s.attach_policy_arns = vec!["ReadOnly".into()];
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--attach-policy-arn"));
        let mut s = spec();
        s.subject_pattern = Some("other-*".into());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("does not match"));
        let mut s = spec();
        s.subject_pattern = Some("app-*".into());
        assert!(s.validate().is_ok());
        let mut s = spec();
        s.role_path = Some("nope".into());
        assert!(s.validate().is_err());
        let mut s = spec();
        s.inline_policy = Some(json!({"Statement": "x"}));
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("inline policy"));
    }

    #[test]
    fn role_names_come_from_flags_or_default() {
        let mut s = spec();
        assert_eq!(s.role_name("c1"), "irsa-c1-shop-app-1");
        s.role_name = Some("mine".into());
        assert_eq!(s.role_name("c1"), "mine");
        s.attach_role_arn = Some("arn:aws:iam::111122223333:role/team/shared".into());
        assert_eq!(s.role_name("c1"), "shared");
    }
}
