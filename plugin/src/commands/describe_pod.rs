//! `kubectl irsa describe pod/NAME`: gather the pod's chain (the pod, its service account, a token bound to
//! the pod, the provider its issuer names, the role and its documents), then let
//! [`crate::doctor::pod_chain`] judge it.

use std::time::Duration;

use irsa_names::{AUDIENCE_ANNOTATION, POD_IDENTITY_AUDIENCE, STS_AUDIENCE};

use super::describe::{documents, role_facts};
use super::{print, Ctx};
use crate::cli::{DescribeArgs, IssuerArgs};
use crate::doctor::pod_chain::{diagnose_pod, render_pod, Claims, PodChainFacts};
use crate::doctor::pod_identity::{AgentFacts, AGENT_DAEMONSET, AGENT_NAMESPACE};
use crate::doctor::pod_identity_chain::PodIdentityChainFacts;
use crate::doctor::pod_spec::PodSpecFacts;
use crate::doctor::{ProviderFacts, RoleFacts, Verdict};
use crate::error::{Error, Result};
use crate::kube::annotations;
use crate::output::structured;

/// The webhook's default token lifetime, used when the volume says none.
const DEFAULT_EXPIRATION: i64 = 86400;

pub async fn run(ctx: &Ctx, pod_name: &str, args: &DescribeArgs) -> Result<()> {
    let namespace = ctx.namespace()?;
    let kube = ctx.kube().await?;
    let pod = kube.get_pod(&namespace, pod_name).await?.ok_or_else(|| {
        Error::NotFound(format!(
            "pod {namespace}/{pod_name} not found (kubectl get pods -n {namespace})"
        ))
    })?;
    let spec = PodSpecFacts::from_pod(&pod);
    let sa = kube
        .get_service_account(&namespace, &spec.service_account)
        .await?;
    // Pod Identity's env and no IRSA token volume: the agent's chain (the SDKs prefer IRSA when both are there).
    let pod_identity = if spec.containers.iter().any(|c| c.pod_identity) && spec.volume.is_none() {
        Some(pod_identity_facts(ctx, &args.issuer, &namespace, &spec, &pod).await?)
    } else {
        None
    };
    let sa_annotations = sa.as_ref().map(|sa| annotations(&sa.metadata));
    let wanted_audience = sa_annotations
        .as_ref()
        .and_then(|a| a.get(AUDIENCE_ANNOTATION).cloned())
        .unwrap_or_else(|| STS_AUDIENCE.into());
    // The token the kubelet projects: the volume's audience and expiry (else what the annotation asks).
    let audience = spec
        .volume
        .as_ref()
        .and_then(|v| v.audience.clone())
        .unwrap_or(wanted_audience);
    let expiration = spec
        .volume
        .as_ref()
        .and_then(|v| v.expiration_seconds)
        .unwrap_or(DEFAULT_EXPIRATION);
    let token = match &sa {
        None => Err("the service account does not exist".to_string()),
        Some(_) => kube
            .pod_token_claims(
                &namespace,
                &spec.service_account,
                &pod,
                &audience,
                expiration,
            )
            .await
            .map_err(|e| e.to_string())
            .and_then(|v| serde_json::from_value::<Claims>(v).map_err(|e| e.to_string())),
    };
    let issuer = ctx
        .issuer(&args.issuer)
        .await
        .map(|i| i.url)
        .map_err(|e| e.to_string());
    let role_arn = sa_annotations
        .as_ref()
        .and_then(|a| a.get(irsa_names::ROLE_ARN_ANNOTATION))
        .map(|a| a.trim().to_string());
    let (mut provider, mut role) = (ProviderFacts::NotChecked, RoleFacts::NotChecked);
    let (mut docs, mut boundary, mut live_thumbprint) = (Vec::new(), None, None);
    if let (Some(arn), Ok(aws)) = (&role_arn, ctx.aws().await) {
        if let (Ok(claims), Some(account)) = (&token, irsa_policy::Account::of_arn(arn)) {
            let provider_arn = account.provider_arn(&claims.iss);
            provider = match aws.get_provider(&provider_arn).await {
                Ok(Some(p)) => ProviderFacts::Found(p),
                Ok(None) => ProviderFacts::Missing { arn: provider_arn },
                Err(e) => ProviderFacts::Error(e.to_string()),
            };
            live_thumbprint = tokio::time::timeout(
                Duration::from_secs(5),
                crate::thumbprint::issuer_thumbprint(&claims.iss),
            )
            .await
            .ok()
            .map(|r| r.map_err(|e| e.to_string()));
        }
        if let Some(name) = irsa_policy::role_name_from_arn(arn) {
            role = role_facts(aws, &name).await;
            docs = documents(aws, &role)
                .await
                .into_iter()
                .filter(|(name, _)| name != "trust policy")
                .collect();
            if let RoleFacts::Found { role: r, .. } = &role {
                if let Some(b) = &r.permissions_boundary {
                    if let Ok(doc) = aws.managed_policy_document(b).await {
                        boundary = Some((b.clone(), doc));
                    }
                }
            }
        }
    }
    let facts = PodChainFacts {
        namespace,
        pod: spec,
        sa_annotations,
        issuer,
        token,
        provider,
        live_thumbprint,
        role,
        documents: docs,
        boundary,
        simulate: args
            .action
            .clone()
            .map(|a| (a, args.resource.clone().unwrap_or_else(|| "*".into()))),
        pod_identity,
    };
    let diagnosis = diagnose_pod(&facts);
    match structured(ctx.output(), &diagnosis)? {
        Some(text) => print(&text),
        None => print(&render_pod(&diagnosis)),
    }
    if diagnosis.verdict == Verdict::Problems {
        return Err(Error::Unhealthy(format!(
            "pod {}/{}: the chain breaks at {}",
            diagnosis.namespace,
            diagnosis.pod,
            diagnosis.failing_link.unwrap_or("?")
        )));
    }
    Ok(())
}

/// The Pod Identity chain's facts: the association for the pod's service account, a token bound to the pod
/// with the Pod Identity audience, the association's role with its documents, the agent DaemonSet.
async fn pod_identity_facts(
    ctx: &Ctx,
    issuer_args: &IssuerArgs,
    namespace: &str,
    spec: &PodSpecFacts,
    pod: &k8s_openapi::api::core::v1::Pod,
) -> Result<PodIdentityChainFacts> {
    let kube = ctx.kube().await?;
    let sa = spec.service_account.as_str();
    let expiration = spec
        .pod_identity_spec
        .volume
        .as_ref()
        .and_then(|v| v.expiration_seconds)
        .unwrap_or(DEFAULT_EXPIRATION);
    let token = kube
        .pod_token_claims(namespace, sa, pod, POD_IDENTITY_AUDIENCE, expiration)
        .await
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::from_value::<Claims>(v).map_err(|e| e.to_string()));
    let agent = match kube
        .daemonset_status(AGENT_NAMESPACE, AGENT_DAEMONSET)
        .await
    {
        Ok(Some((desired, ready))) => AgentFacts::Found { desired, ready },
        Ok(None) => AgentFacts::Missing,
        Err(e) => AgentFacts::Error(e.to_string()),
    };
    let cluster = ctx.eks_cluster(issuer_args).ok_or_else(|| {
        "the EKS cluster is not known: give --cluster NAME (associations live in an EKS cluster)".to_string()
    });
    let mut facts = PodIdentityChainFacts {
        cluster: cluster.clone(),
        association: Err("not looked up".into()),
        issuer: Err("not looked up".into()),
        token,
        role: RoleFacts::NotChecked,
        documents: Vec::new(),
        boundary: None,
        agent,
    };
    let (Ok(cluster), Ok(aws)) = (cluster, ctx.aws().await) else {
        return Ok(facts);
    };
    facts.issuer = aws
        .cluster_issuer(&cluster)
        .await
        .map_err(|e| e.to_string());
    facts.association = aws
        .pod_identity_associations(&cluster, Some(namespace), Some(sa))
        .await
        .map(|found| found.into_iter().next())
        .map_err(|e| e.to_string());
    let Ok(Some(association)) = &facts.association else {
        return Ok(facts);
    };
    if let Some(name) = irsa_policy::role_name_from_arn(&association.role_arn) {
        facts.role = role_facts(aws, &name).await;
        facts.documents = documents(aws, &facts.role)
            .await
            .into_iter()
            .filter(|(name, _)| name != "trust policy")
            .collect();
        if let RoleFacts::Found { role: r, .. } = &facts.role {
            if let Some(b) = &r.permissions_boundary {
                if let Ok(doc) = aws.managed_policy_document(b).await {
                    facts.boundary = Some((b.clone(), doc));
                }
            }
        }
    }
    Ok(facts)
}
