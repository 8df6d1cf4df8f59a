//! `kubectl irsa describe`: gather the facts for each service account and let the doctor judge them.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use irsa_names::ROLE_ARN_ANNOTATION;
use k8s_openapi::api::core::v1::ServiceAccount;
use tokio::sync::Mutex;

use super::{print, Ctx};
use crate::aws::Aws;
use crate::cli::{DescribeArgs, IssuerArgs};
use crate::doctor::{
    self, looks_like_role_arn_key, Diagnosis, Facts, PodFacts, ProviderFacts, RoleFacts, SaFacts,
    Verdict,
};
use crate::error::{Error, Result};
use crate::kube::{annotations, is_managed};
use crate::output::structured;

/// How many service accounts are examined at once.
const CONCURRENCY: usize = 8;

/// Which service accounts to look at.
pub enum Selection {
    One { namespace: String, name: String },
    Namespace(String),
    All,
}

/// Caches shared by the service accounts of one run (many share a role or the provider).
struct Lookups<'a> {
    aws: Option<&'a Aws>,
    aws_error: Option<String>,
    caller_account: Option<String>,
    issuer: Result<String, String>,
    providers: Mutex<HashMap<String, ProviderFacts>>,
    roles: Mutex<HashMap<String, RoleFacts>>,
    show_policies: bool,
}

impl Lookups<'_> {
    /// The OIDC provider for the issuer in the role's account (and partition).
    async fn provider(&self, account: Option<&irsa_policy::Account>) -> ProviderFacts {
        let (Ok(issuer), Some(account)) = (&self.issuer, account) else {
            return ProviderFacts::NotChecked;
        };
        let arn = account.provider_arn(issuer);
        if let Some(p) = self.providers.lock().await.get(&arn) {
            return p.clone();
        }
        let facts = match self.aws {
            None => ProviderFacts::Error(self.aws_error.clone().unwrap_or_default()),
            Some(aws) => match aws.get_provider(&arn).await {
                Ok(Some(p)) => ProviderFacts::Found(p),
                Ok(None) => ProviderFacts::Missing { arn: arn.clone() },
                Err(e) => ProviderFacts::Error(e.to_string()),
            },
        };
        self.providers.lock().await.insert(arn, facts.clone());
        facts
    }

    async fn role(&self, arn: &str) -> RoleFacts {
        let (Some(name), Some(account)) = (
            irsa_policy::role_name_from_arn(arn),
            irsa_policy::account_from_arn(arn),
        ) else {
            return RoleFacts::NotChecked;
        };
        if let Some(caller) = &self.caller_account {
            if caller != &account {
                return RoleFacts::OtherAccount {
                    role_account: account,
                    caller_account: caller.clone(),
                };
            }
        }
        if let Some(r) = self.roles.lock().await.get(&name) {
            return r.clone();
        }
        let facts = match self.aws {
            None => RoleFacts::Error(self.aws_error.clone().unwrap_or_default()),
            Some(aws) => role_facts(aws, &name).await,
        };
        self.roles.lock().await.insert(name, facts.clone());
        facts
    }
}

pub(crate) async fn role_facts(aws: &Aws, name: &str) -> RoleFacts {
    let role = match aws.get_role(name).await {
        Ok(Some(role)) => role,
        Ok(None) => return RoleFacts::Missing,
        Err(e) => return RoleFacts::Error(e.to_string()),
    };
    let attached = match aws.attached_policies(name).await {
        Ok(a) => a,
        Err(e) => return RoleFacts::Error(e.to_string()),
    };
    let inline = match aws.inline_policies(name).await {
        Ok(i) => i,
        Err(e) => return RoleFacts::Error(e.to_string()),
    };
    let mut missing = Vec::new();
    for arn in &attached {
        if let Ok(false) = aws.policy_exists(arn).await {
            missing.push(arn.clone());
        }
    }
    RoleFacts::Found {
        role: Box::new(role),
        attached,
        missing_policies: missing,
        inline,
    }
}

pub(crate) async fn documents(aws: &Aws, role: &RoleFacts) -> Vec<(String, serde_json::Value)> {
    let RoleFacts::Found {
        role,
        attached,
        inline,
        ..
    } = role
    else {
        return Vec::new();
    };
    let mut docs = vec![("trust policy".to_string(), role.trust.clone())];
    for arn in attached {
        let doc = aws
            .managed_policy_document(arn)
            .await
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
        docs.push((arn.clone(), doc));
    }
    for name in inline {
        let doc = match aws.inline_policy(&role.name, name).await {
            Ok(Some(d)) => d,
            Ok(None) => serde_json::Value::Null,
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        docs.push((format!("inline {name}"), doc));
    }
    docs
}

/// Is this service account part of an IRSA binding (annotated, labelled by us, or a typo of the annotation)?
pub fn is_candidate(sa: &ServiceAccount) -> bool {
    let a = annotations(&sa.metadata);
    a.contains_key(ROLE_ARN_ANNOTATION)
        || a.keys().any(|k| looks_like_role_arn_key(k))
        || is_managed(&sa.metadata)
}

/// Diagnose the selected service accounts.
pub async fn diagnose_selection(
    ctx: &Ctx,
    selection: Selection,
    issuer_args: &IssuerArgs,
    show_policies: bool,
) -> Result<Vec<Diagnosis>> {
    let kube = ctx.kube().await?;
    // Pod Identity bindings, when the EKS cluster is known (--cluster, or an EKS context).
    let (pi_ns, pi_name) = match &selection {
        Selection::One { namespace, name } => (Some(namespace.as_str()), Some(name.as_str())),
        Selection::Namespace(ns) => (Some(ns.as_str()), None),
        Selection::All => (None, None),
    };
    // Reading them must not cost the IRSA answer: an identity without eks:ListPodIdentityAssociations (or a
    // context that only looks like EKS) gets a warning.
    let associations = match ctx.eks_cluster(issuer_args) {
        Some(cluster) => {
            match super::describe_pod_identity::associations(ctx, &cluster, pi_ns, pi_name).await {
                Ok(found) => found,
                Err(e) => {
                    super::warn(&format!(
                        "cannot read the EKS Pod Identity associations of cluster {cluster} ({e}); showing IRSA \
                         bindings only"
                    ));
                    Vec::new()
                }
            }
        }
        None => Vec::new(),
    };
    let pod_identity = super::describe_pod_identity::diagnoses(ctx, &associations, pi_ns).await?;
    // A service account bound only through Pod Identity is not an IRSA binding missing its annotation.
    let irsa_candidate = |sa: &ServiceAccount| {
        let bound_by_association = associations.iter().any(|a| {
            Some(&a.namespace) == sa.metadata.namespace.as_ref()
                && Some(&a.service_account) == sa.metadata.name.as_ref()
        });
        let a = annotations(&sa.metadata);
        let annotated =
            a.contains_key(ROLE_ARN_ANNOTATION) || a.keys().any(|k| looks_like_role_arn_key(k));
        is_candidate(sa) && (annotated || !bound_by_association)
    };
    let (accounts, pod_ns): (Vec<ServiceAccount>, Option<String>) = match &selection {
        Selection::One { namespace, name } => match kube.get_service_account(namespace, name).await? {
            Some(sa) if pod_identity.is_empty() || irsa_candidate(&sa) => (vec![sa], Some(namespace.clone())),
            Some(_) => (Vec::new(), Some(namespace.clone())),
            None if !pod_identity.is_empty() => (Vec::new(), Some(namespace.clone())),
            None => {
                return Err(Error::NotFound(format!(
                    "service account {namespace}/{name} not found (kubectl get serviceaccounts -n {namespace}); \
                     create a binding with: kubectl irsa create --name {name} -n {namespace}"
                )))
            }
        },
        Selection::Namespace(ns) => (
            kube.list_service_accounts(Some(ns))
                .await?
                .into_iter()
                .filter(irsa_candidate)
                .collect(),
            Some(ns.clone()),
        ),
        Selection::All => (
            kube.list_service_accounts(None)
                .await?
                .into_iter()
                .filter(irsa_candidate)
                .collect(),
            None,
        ),
    };
    if accounts.is_empty() {
        return Ok(pod_identity);
    }

    let issuer = ctx
        .issuer(issuer_args)
        .await
        .map(|i| i.url)
        .map_err(|e| e.to_string());
    let (aws, aws_error) = match ctx.aws().await {
        Ok(aws) => (Some(aws), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let caller_account = match aws {
        Some(aws) => aws.account().await.ok().map(|a| a.id),
        None => None,
    };
    let mut pods_by_sa: BTreeMap<(String, String), Vec<PodFacts>> = BTreeMap::new();
    for pod in kube.list_pods(pod_ns.as_deref()).await? {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let sa = pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_else(|| "default".into());
        pods_by_sa
            .entry((ns, sa))
            .or_default()
            .push(PodFacts::from_pod(&pod));
    }
    let lookups = Lookups {
        aws,
        aws_error,
        caller_account,
        issuer,
        providers: Mutex::new(HashMap::new()),
        roles: Mutex::new(HashMap::new()),
        show_policies,
    };
    let lookups = &lookups;
    let pods_by_sa = &pods_by_sa;
    let mut diagnoses: Vec<Diagnosis> = futures::stream::iter(accounts)
        .map(|sa| async move {
            let namespace = sa.metadata.namespace.clone().unwrap_or_default();
            let name = sa.metadata.name.clone().unwrap_or_default();
            let annotations = annotations(&sa.metadata);
            let arn = annotations.get(ROLE_ARN_ANNOTATION).cloned();
            let role = match &arn {
                Some(arn) => lookups.role(arn.trim()).await,
                None => RoleFacts::NotChecked,
            };
            let account = arn
                .as_deref()
                .and_then(|a| irsa_policy::Account::of_arn(a.trim()));
            let provider = lookups.provider(account.as_ref()).await;
            let docs = match (lookups.show_policies, lookups.aws) {
                (true, Some(aws)) => documents(aws, &role).await,
                _ => Vec::new(),
            };
            let facts = Facts {
                pods: pods_by_sa
                    .get(&(namespace.clone(), name.clone()))
                    .cloned()
                    .unwrap_or_default(),
                sa: SaFacts {
                    namespace,
                    name,
                    managed: is_managed(&sa.metadata),
                    annotations,
                },
                issuer: lookups.issuer.clone(),
                role,
                provider,
                documents: docs,
            };
            doctor::diagnose(&facts)
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    diagnoses.extend(pod_identity);
    diagnoses.sort_by(|a, b| {
        (&a.namespace, &a.name, a.kind.label()).cmp(&(&b.namespace, &b.name, b.kind.label()))
    });
    Ok(diagnoses)
}

pub async fn run(ctx: &Ctx, args: DescribeArgs) -> Result<()> {
    let name = args.name.as_deref().unwrap_or_default();
    if let Some(pod) = name
        .strip_prefix("pod/")
        .or_else(|| name.strip_prefix("pods/"))
    {
        return super::describe_pod::run(ctx, pod, &args).await;
    }
    if args.action.is_some() {
        return Err(Error::usage(
            "--action simulates for one pod: kubectl irsa describe pod/NAME -n NS --action ACTION --resource ARN",
        ));
    }
    let args = DescribeArgs {
        name: args.name.as_deref().map(|n| {
            n.strip_prefix("serviceaccount/")
                .or_else(|| n.strip_prefix("sa/"))
                .unwrap_or(n)
                .to_string()
        }),
        ..args
    };
    let selection = match (&args.name, args.all_namespaces) {
        (Some(name), _) => Selection::One {
            namespace: ctx.namespace()?,
            name: name.clone(),
        },
        (None, true) => Selection::All,
        (None, false) => Selection::Namespace(ctx.namespace()?),
    };
    let diagnoses = diagnose_selection(ctx, selection, &args.issuer, args.show_policies).await?;
    match structured(ctx.output(), &diagnoses)? {
        Some(text) => print(&text),
        None => {
            if diagnoses.is_empty() {
                let scope = if args.all_namespaces {
                    "any namespace".to_string()
                } else {
                    format!("namespace {}", ctx.namespace()?)
                };
                print(&format!(
                    "No service accounts with an IRSA binding in {scope}.\n"
                ));
            }
            let texts: Vec<String> = diagnoses.iter().map(doctor::render).collect();
            print(&texts.join("\n"));
        }
    }
    let broken = diagnoses
        .iter()
        .filter(|d| d.verdict == Verdict::Problems)
        .count();
    if broken > 0 {
        return Err(Error::Unhealthy(format!(
            "{broken} of {} service account(s) have problems (see the fixes above)",
            diagnoses.len()
        )));
    }
    Ok(())
}
