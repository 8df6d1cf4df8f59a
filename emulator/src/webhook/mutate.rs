//! The mutation itself: a pure function from a Pod, its ServiceAccount's settings and the webhook's
//! configuration to JSONPatch operations. No I/O here, so every rule is unit-tested.
//!
//! The rules are those of aws/amazon-eks-pod-identity-webhook (`pkg/handler/handler.go`, `pkg/cache/cache.go`):
//!
//! - A pod is mutated when its ServiceAccount (`spec.serviceAccountName` in the request's namespace) carries
//!   `eks.amazonaws.com/role-arn` with a non-empty value.
//! - ServiceAccount annotations: `audience` (default `sts.amazonaws.com`), `sts-regional-endpoints` (Go
//!   `strconv.ParseBool`; invalid values keep the default), `token-expiration` (integer seconds, raised to 600).
//! - Pod annotations: `token-expiration` overrides the ServiceAccount's (same parsing and floor);
//!   `skip-containers` is one CSV record of container names (init or regular) left untouched.
//! - Volume `aws-iam-token` (projected `serviceAccountToken{audience, expirationSeconds, path: token}`) is added
//!   first in `spec.volumes` unless a volume of that name exists.
//! - Per container (init containers too), unless skipped: nothing at all when it already defines one of
//!   `AWS_ROLE_ARN`/`AWS_WEB_IDENTITY_TOKEN_FILE`, one of `AWS_REGION`/`AWS_DEFAULT_REGION` *and*
//!   `AWS_STS_REGIONAL_ENDPOINTS`; otherwise, appended in this order and each only when not already set:
//!   `AWS_STS_REGIONAL_ENDPOINTS=regional` (when enabled), `AWS_DEFAULT_REGION` + `AWS_REGION` (when a region is
//!   configured; neither if either is set), `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (neither if either is
//!   set); then a read-only mount of `aws-iam-token` at `/var/run/secrets/eks.amazonaws.com/serviceaccount`
//!   unless the container mounts a volume of that name.
//! - A pod whose node selector `kubernetes.io/os` or `beta.kubernetes.io/os` is `windows` gets the token file as
//!   a Windows path (`C:\var\run\…\token`); mount paths stay as they are.
//!
//! Where this deliberately differs from upstream, the result is a superset or the request is one upstream would
//! never be sent:
//!
//! - The emulator's two additions (see [`EmulatorAdditions`]): `AWS_ENDPOINT_URL_STS` and `AWS_CA_BUNDLE` (with
//!   the `irsa-emulator-ca` volume and its mount), added to every container that is not skipped, whether or not
//!   upstream changed it, each only when the container does not set it.
//! - Upstream replaces whole `/spec/containers` arrays with its re-serialised copies; these operations append
//!   to `env`, `volumeMounts` and `volumes` instead. The resulting pod is the same, and fields this build's
//!   Kubernetes types do not know survive.
//! - A pod labelled `eks.amazonaws.com/skip-pod-identity-webhook` or without containers is left alone (the
//!   webhook's objectSelector already keeps the former away).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, EnvVar, Pod, ProjectedVolumeSource,
    ServiceAccountTokenProjection, Volume, VolumeMount, VolumeProjection,
};
use serde::Serialize;
use serde_json::Value;

use irsa_names::{
    AUDIENCE_ANNOTATION, DEFAULT_TOKEN_EXPIRATION, ENV_CA_BUNDLE, ENV_DEFAULT_REGION,
    ENV_ENDPOINT_URL_STS, ENV_REGION, ENV_ROLE_ARN, ENV_STS_REGIONAL_ENDPOINTS, ENV_TOKEN_FILE,
    MIN_TOKEN_EXPIRATION, ROLE_ARN_ANNOTATION, SKIP_CONTAINERS_ANNOTATION, SKIP_POD_LABEL,
    STS_AUDIENCE, STS_REGIONAL_ENDPOINTS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION, TOKEN_FILE_NAME,
    TOKEN_MOUNT_PATH, TOKEN_VOLUME,
};

/// The ConfigMap (in every namespace) and the volume holding the emulator's CA.
pub const CA_CONFIGMAP: &str = "irsa-emulator-ca";
pub const CA_VOLUME: &str = "irsa-emulator-ca";
pub const CA_KEY: &str = "ca.pem";
pub const CA_MOUNT_PATH: &str = "/var/run/secrets/irsa-emulator";

/// What the webhook is configured with (upstream's flags), plus the emulator's additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutationConfig {
    /// Upstream `--aws-default-region`: sets `AWS_DEFAULT_REGION` and `AWS_REGION` when present.
    pub region: Option<String>,
    /// Upstream `--token-audience`.
    pub default_audience: String,
    /// Upstream `--token-expiration`.
    pub default_token_expiration: i64,
    /// Upstream `--sts-regional-endpoint`.
    pub default_regional_sts: bool,
    /// `None` mutates exactly as upstream does.
    pub additions: Option<EmulatorAdditions>,
}

/// What makes a mutated pod talk to the emulator instead of AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatorAdditions {
    /// Value of `AWS_ENDPOINT_URL_STS`: the emulator's public URL.
    pub sts_endpoint: String,
    /// Mount the `irsa-emulator-ca` ConfigMap and set `AWS_CA_BUNDLE` (false when serving plain HTTP).
    pub ca_bundle: bool,
}

impl MutationConfig {
    /// Upstream's defaults and nothing else.
    pub fn upstream(region: Option<String>) -> Self {
        MutationConfig {
            region: region.filter(|r| !r.is_empty()),
            default_audience: STS_AUDIENCE.to_string(),
            default_token_expiration: DEFAULT_TOKEN_EXPIRATION,
            default_regional_sts: false,
            additions: None,
        }
    }

    /// Upstream's defaults plus the emulator's additions.
    pub fn emulator(region: Option<String>, sts_endpoint: &str, ca_bundle: bool) -> Self {
        MutationConfig {
            additions: Some(EmulatorAdditions {
                sts_endpoint: sts_endpoint.trim_end_matches('/').to_string(),
                ca_bundle,
            }),
            ..MutationConfig::upstream(region)
        }
    }
}

/// A ServiceAccount's annotations as the webhook reads them (upstream's cache entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountSettings {
    /// `None` (or empty) means the pod is not mutated.
    pub role_arn: Option<String>,
    pub audience: String,
    pub regional_sts: bool,
    pub token_expiration: i64,
}

impl ServiceAccountSettings {
    pub fn from_annotations(
        annotations: Option<&BTreeMap<String, String>>,
        config: &MutationConfig,
    ) -> Self {
        let get = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
        let role_arn = get(ROLE_ARN_ANNOTATION).map(str::to_string);
        if let Some(arn) = &role_arn {
            if !looks_like_role_arn(arn) {
                tracing::warn!(arn = %arn, "eks.amazonaws.com/role-arn is not a role ARN; using it anyway, as the upstream webhook does");
            }
        }
        ServiceAccountSettings {
            role_arn,
            audience: get(AUDIENCE_ANNOTATION)
                .map(str::to_string)
                .unwrap_or_else(|| config.default_audience.clone()),
            regional_sts: get(STS_REGIONAL_ENDPOINTS_ANNOTATION)
                .and_then(parse_go_bool)
                .unwrap_or(config.default_regional_sts),
            token_expiration: get(TOKEN_EXPIRATION_ANNOTATION)
                .and_then(parse_go_int)
                .map(clamp_token_expiration)
                .unwrap_or(config.default_token_expiration),
        }
    }
}

/// One JSONPatch operation (RFC 6902). Only `add` is ever produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatchOperation {
    pub op: &'static str,
    pub path: String,
    pub value: Value,
}

impl PatchOperation {
    fn add(path: impl Into<String>, value: Value) -> Self {
        PatchOperation {
            op: "add",
            path: path.into(),
            value,
        }
    }
}

/// What [`mutate`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Apply these operations (possibly none, when everything is already in place).
    Patch(Vec<PatchOperation>),
    /// Leave the pod alone, for this reason (logged).
    Skip(String),
}

/// Why `pod` is never mutated, whatever its ServiceAccount: excluded by label, or not a pod one can run.
pub fn unmutatable(pod: &Pod) -> Option<String> {
    let labels = pod.metadata.labels.as_ref();
    if labels.is_some_and(|l| l.contains_key(SKIP_POD_LABEL)) {
        return Some(format!("pod is labelled {SKIP_POD_LABEL}"));
    }
    match pod.spec.as_ref() {
        None => Some("pod has no spec".into()),
        Some(spec) if spec.containers.is_empty() => Some("pod has no containers".into()),
        Some(_) => None,
    }
}

/// The patch for `pod`, whose ServiceAccount has `service_account` settings (`None`: not found).
pub fn mutate(
    pod: &Pod,
    service_account: Option<&ServiceAccountSettings>,
    config: &MutationConfig,
) -> Decision {
    if let Some(reason) = unmutatable(pod) {
        return Decision::Skip(reason);
    }
    let Some(spec) = pod.spec.as_ref() else {
        return Decision::Skip("pod has no spec".into());
    };
    let Some(sa) = service_account else {
        return Decision::Skip("service account not found".into());
    };
    let Some(role_arn) = sa.role_arn.as_deref().filter(|arn| !arn.is_empty()) else {
        return Decision::Skip(format!(
            "service account has no {ROLE_ARN_ANNOTATION} annotation"
        ));
    };

    let annotations = pod.metadata.annotations.as_ref();
    let pod_annotation = |key: &str| annotations.and_then(|a| a.get(key)).map(String::as_str);
    let token_expiration = pod_annotation(TOKEN_EXPIRATION_ANNOTATION)
        .and_then(parse_go_int)
        .map(clamp_token_expiration)
        .unwrap_or(sa.token_expiration);
    let skipped: BTreeSet<String> = pod_annotation(SKIP_CONTAINERS_ANNOTATION)
        .and_then(first_csv_record)
        .unwrap_or_default()
        .into_iter()
        .collect();

    let windows = spec.node_selector.as_ref().is_some_and(|selector| {
        ["kubernetes.io/os", "beta.kubernetes.io/os"]
            .iter()
            .any(|key| selector.get(*key).map(String::as_str) == Some("windows"))
    });
    let file_path = |path: String| {
        if windows {
            format!("C:{}", path.replace('/', "\\"))
        } else {
            path
        }
    };
    let plan = ContainerPlan {
        role_arn,
        token_file: file_path(format!("{TOKEN_MOUNT_PATH}/{TOKEN_FILE_NAME}")),
        regional_sts: sa.regional_sts,
        region: config.region.as_deref(),
        additions: config.additions.as_ref().map(|a| Additions {
            sts_endpoint: &a.sts_endpoint,
            ca_file: a
                .ca_bundle
                .then(|| file_path(format!("{CA_MOUNT_PATH}/{CA_KEY}"))),
        }),
    };

    let mut ops = Vec::new();
    let volumes = spec.volumes.as_deref();
    let has_volume = |name: &str| volumes.is_some_and(|v| v.iter().any(|vol| vol.name == name));
    let mut new_volumes = Vec::new();
    if !has_volume(TOKEN_VOLUME) {
        new_volumes.push(token_volume(&sa.audience, token_expiration));
    }
    let ca_volume_needed = plan.additions.as_ref().is_some_and(|a| a.ca_file.is_some());
    let add_ca_volume = ca_volume_needed && !has_volume(CA_VOLUME);
    match volumes {
        None => {
            if add_ca_volume {
                new_volumes.push(ca_volume());
            }
            if !new_volumes.is_empty() {
                ops.push(PatchOperation::add("/spec/volumes", to_json(&new_volumes)));
            }
        }
        Some(_) => {
            // Upstream inserts the token volume first.
            if let Some(volume) = new_volumes.pop() {
                ops.push(PatchOperation::add("/spec/volumes/0", to_json(&volume)));
            }
            if add_ca_volume {
                ops.push(PatchOperation::add(
                    "/spec/volumes/-",
                    to_json(&ca_volume()),
                ));
            }
        }
    }

    for (field, containers) in [
        (
            "initContainers",
            spec.init_containers.as_deref().unwrap_or_default(),
        ),
        ("containers", spec.containers.as_slice()),
    ] {
        for (index, container) in containers.iter().enumerate() {
            if skipped.contains(&container.name) {
                continue;
            }
            plan.container_ops(container, &format!("/spec/{field}/{index}"), &mut ops);
        }
    }
    Decision::Patch(ops)
}

struct ContainerPlan<'a> {
    role_arn: &'a str,
    token_file: String,
    regional_sts: bool,
    region: Option<&'a str>,
    additions: Option<Additions<'a>>,
}

struct Additions<'a> {
    sts_endpoint: &'a str,
    ca_file: Option<String>,
}

impl ContainerPlan<'_> {
    fn container_ops(&self, container: &Container, base: &str, ops: &mut Vec<PatchOperation>) {
        let env = container.env.as_deref().unwrap_or_default();
        let defined = |name: &str| env.iter().any(|e| e.name == name);
        let mounts = container.volume_mounts.as_deref().unwrap_or_default();
        let mounted = |name: &str| mounts.iter().any(|m| m.name == name);

        let web_identity_defined = defined(ENV_ROLE_ARN) || defined(ENV_TOKEN_FILE);
        let region_defined = defined(ENV_REGION) || defined(ENV_DEFAULT_REGION);
        let regional_sts_defined = defined(ENV_STS_REGIONAL_ENDPOINTS);
        let upstream_done = web_identity_defined && region_defined && regional_sts_defined;

        let mut new_env = Vec::new();
        let mut new_mounts = Vec::new();
        if !upstream_done {
            if !regional_sts_defined && self.regional_sts {
                new_env.push(env_var(ENV_STS_REGIONAL_ENDPOINTS, "regional"));
            }
            if let Some(region) = self.region.filter(|_| !region_defined) {
                new_env.push(env_var(ENV_DEFAULT_REGION, region));
                new_env.push(env_var(ENV_REGION, region));
            }
            if !web_identity_defined {
                new_env.push(env_var(ENV_ROLE_ARN, self.role_arn));
                new_env.push(env_var(ENV_TOKEN_FILE, &self.token_file));
            }
            if !mounted(TOKEN_VOLUME) {
                new_mounts.push(mount(TOKEN_VOLUME, TOKEN_MOUNT_PATH));
            }
        }
        if let Some(additions) = &self.additions {
            if !defined(ENV_ENDPOINT_URL_STS) {
                new_env.push(env_var(ENV_ENDPOINT_URL_STS, additions.sts_endpoint));
            }
            if let Some(ca_file) = &additions.ca_file {
                if !defined(ENV_CA_BUNDLE) {
                    new_env.push(env_var(ENV_CA_BUNDLE, ca_file));
                }
                if !mounted(CA_VOLUME) {
                    new_mounts.push(mount(CA_VOLUME, CA_MOUNT_PATH));
                }
            }
        }
        append(
            ops,
            &format!("{base}/env"),
            container.env.is_some(),
            new_env,
        );
        append(
            ops,
            &format!("{base}/volumeMounts"),
            container.volume_mounts.is_some(),
            new_mounts,
        );
    }
}

/// Appends `items` to the array at `path`, creating it when the field is absent.
fn append<T: Serialize>(ops: &mut Vec<PatchOperation>, path: &str, exists: bool, items: Vec<T>) {
    if items.is_empty() {
        return;
    }
    if exists {
        for item in &items {
            ops.push(PatchOperation::add(format!("{path}/-"), to_json(item)));
        }
    } else {
        ops.push(PatchOperation::add(path, to_json(&items)));
    }
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("Kubernetes types serialize to JSON")
}

fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        read_only: Some(true),
        ..Default::default()
    }
}

fn token_volume(audience: &str, expiration: i64) -> Volume {
    Volume {
        name: TOKEN_VOLUME.to_string(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(audience.to_string()),
                    expiration_seconds: Some(expiration),
                    path: TOKEN_FILE_NAME.to_string(),
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn ca_volume() -> Volume {
    Volume {
        name: CA_VOLUME.to_string(),
        config_map: Some(ConfigMapVolumeSource {
            name: CA_CONFIGMAP.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn clamp_token_expiration(seconds: i64) -> i64 {
    seconds.max(MIN_TOKEN_EXPIRATION)
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(value, 10, 64)`: optional sign, ASCII digits, nothing else.
pub fn parse_go_int(value: &str) -> Option<i64> {
    let digits = value.strip_prefix(['+', '-']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// The first record of `input` as Go's `encoding/csv` reads it (comma separated, `"`-quoted fields with `""`
/// escapes, blank lines skipped); `None` where Go reports an error (no record, bare or unterminated quote).
pub fn first_csv_record(input: &str) -> Option<Vec<String>> {
    let mut rest = input;
    loop {
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("\r\n") {
            rest = r;
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return None;
    }
    let chars: Vec<char> = rest.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let end_of_line =
        |i: usize| at(i) == Some('\n') || (at(i) == Some('\r') && at(i + 1) == Some('\n'));
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        let mut field = String::new();
        if at(i) == Some('"') {
            i += 1;
            loop {
                match at(i) {
                    None => return None,
                    Some('"') if at(i + 1) == Some('"') => {
                        field.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        if at(i).is_none() || end_of_line(i) {
                            fields.push(field);
                            return Some(fields);
                        }
                        if at(i) == Some(',') {
                            i += 1;
                            fields.push(field);
                            break;
                        }
                        return None;
                    }
                    Some('\r') if at(i + 1) == Some('\n') => {
                        field.push('\n');
                        i += 2;
                    }
                    Some(c) => {
                        field.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            loop {
                if at(i).is_none() || end_of_line(i) {
                    fields.push(field);
                    return Some(fields);
                }
                match at(i) {
                    Some(',') => {
                        i += 1;
                        fields.push(field);
                        break;
                    }
                    Some('"') => return None,
                    Some(c) => {
                        field.push(c);
                        i += 1;
                    }
                    None => unreachable!("checked above"),
                }
            }
        }
    }
}

/// Upstream's (warning-only) role ARN check: `^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w-\/.@+=,]+$`.
fn looks_like_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_suffix, rest)) = rest.split_once(':') else {
        return false;
    };
    if !partition_suffix
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(name) = rest.strip_prefix("role/") else {
        return false;
    };
    account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-/.@+=,".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ROLE: &str = "arn:aws:iam::111122223333:role/s3-reader";
    const TOKEN_FILE: &str = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

    fn pod(value: Value) -> Pod {
        serde_json::from_value(value).expect("test pod")
    }

    fn sa(annotations: Value) -> ServiceAccountSettings {
        let annotations: BTreeMap<String, String> = serde_json::from_value(annotations).unwrap();
        ServiceAccountSettings::from_annotations(Some(&annotations), &upstream())
    }

    fn upstream() -> MutationConfig {
        MutationConfig::upstream(None)
    }

    fn role_sa() -> ServiceAccountSettings {
        sa(json!({ ROLE_ARN_ANNOTATION: ROLE }))
    }

    fn patch(decision: Decision) -> Vec<PatchOperation> {
        match decision {
            Decision::Patch(ops) => ops,
            Decision::Skip(reason) => panic!("expected a patch, skipped: {reason}"),
        }
    }

    fn skip_reason(decision: Decision) -> String {
        match decision {
            Decision::Skip(reason) => reason,
            Decision::Patch(ops) => panic!("expected a skip, got {ops:?}"),
        }
    }

    /// The pod with the patch applied, as the API server would store it.
    fn apply(pod: &Pod, ops: &[PatchOperation]) -> Value {
        let mut doc = serde_json::to_value(pod).unwrap();
        let patch: json_patch::Patch = serde_json::from_value(to_json(&ops)).unwrap();
        json_patch::patch(&mut doc, &patch).expect("patch applies");
        doc
    }

    fn simple_pod() -> Pod {
        pod(json!({
            "metadata": { "name": "p", "namespace": "default" },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "image": "amazonlinux" }] }
        }))
    }

    fn token_volume_json(audience: &str, expiration: i64) -> Value {
        json!({ "name": "aws-iam-token", "projected": { "sources": [{ "serviceAccountToken": {
            "audience": audience, "expirationSeconds": expiration, "path": "token" } }] } })
    }

    fn token_mount_json() -> Value {
        json!({ "name": "aws-iam-token", "readOnly": true, "mountPath": TOKEN_MOUNT_PATH })
    }

    #[test]
    fn plain_pod_gets_volume_mount_and_env() {
        let p = simple_pod();
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
        assert_eq!(
            result["spec"]["volumes"],
            json!([token_volume_json("sts.amazonaws.com", 86400)])
        );
        assert_eq!(
            result["spec"]["containers"][0],
            json!({ "name": "app", "image": "amazonlinux",
                "env": [{ "name": "AWS_ROLE_ARN", "value": ROLE }, { "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": TOKEN_FILE }],
                "volumeMounts": [token_mount_json()] })
        );
    }

    #[test]
    fn region_and_regional_sts_precede_the_role() {
        let p = simple_pod();
        let config = MutationConfig::upstream(Some("seattle".into()));
        let settings = ServiceAccountSettings {
            regional_sts: true,
            ..role_sa()
        };
        let result = apply(&p, &patch(mutate(&p, Some(&settings), &config)));
        let names: Vec<_> = result["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{}={}",
                    e["name"].as_str().unwrap(),
                    e["value"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "AWS_STS_REGIONAL_ENDPOINTS=regional",
                "AWS_DEFAULT_REGION=seattle",
                "AWS_REGION=seattle",
                &format!("AWS_ROLE_ARN={ROLE}"),
                &format!("AWS_WEB_IDENTITY_TOKEN_FILE={TOKEN_FILE}"),
            ]
        );
    }

    #[test]
    fn existing_volumes_keep_their_place_after_the_token_volume() {
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default",
                "containers": [{ "name": "app", "image": "x", "volumeMounts": [{ "name": "data", "mountPath": "/data" }] }],
                "volumes": [{ "name": "data", "emptyDir": {} }] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
        assert_eq!(result["spec"]["volumes"][0]["name"], "aws-iam-token");
        assert_eq!(result["spec"]["volumes"][1]["name"], "data");
        assert_eq!(
            result["spec"]["containers"][0]["volumeMounts"],
            json!([{ "name": "data", "mountPath": "/data" }, token_mount_json()])
        );
    }

    #[test]
    fn init_containers_and_sidecars_are_mutated_unless_skipped() {
        let p = pod(json!({
            "metadata": { "name": "p", "annotations": { SKIP_CONTAINERS_ANNOTATION: "sidecar,init-skip" } },
            "spec": { "serviceAccountName": "default",
                "initContainers": [{ "name": "init" }, { "name": "init-skip" }],
                "containers": [{ "name": "app" }, { "name": "sidecar" }] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
        assert!(result["spec"]["initContainers"][0]["env"].is_array());
        assert_eq!(
            result["spec"]["initContainers"][1],
            json!({ "name": "init-skip" })
        );
        assert!(result["spec"]["containers"][0]["env"].is_array());
        assert_eq!(
            result["spec"]["containers"][1],
            json!({ "name": "sidecar" })
        );
    }

    #[test]
    fn env_a_container_sets_is_not_overwritten() {
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "env": [
                { "name": "AWS_ROLE_ARN", "value": "mine" }, { "name": "AWS_REGION", "value": "eu-west-1" } ] }] }
        }));
        let config = MutationConfig::upstream(Some("us-east-1".into()));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
        // Either web-identity variable set means neither is added; either region variable likewise.
        assert_eq!(
            result["spec"]["containers"][0]["env"],
            json!([{ "name": "AWS_ROLE_ARN", "value": "mine" }, { "name": "AWS_REGION", "value": "eu-west-1" }])
        );
        assert_eq!(
            result["spec"]["containers"][0]["volumeMounts"],
            json!([token_mount_json()])
        );
    }

    #[test]
    fn a_fully_configured_container_is_left_alone() {
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app", "env": [
                { "name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": "/t" }, { "name": "AWS_DEFAULT_REGION", "value": "r" },
                { "name": "AWS_STS_REGIONAL_ENDPOINTS", "value": "legacy" } ] }] }
        }));
        let ops = patch(mutate(&p, Some(&role_sa()), &upstream()));
        // Only the pod volume; not even the mount (upstream returns early).
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].path, "/spec/volumes");
    }

    #[test]
    fn existing_token_volume_and_mount_are_not_duplicated() {
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default",
                "containers": [{ "name": "app", "volumeMounts": [token_mount_json()] }, { "name": "sidecar" }],
                "volumes": [token_volume_json("sts.amazonaws.com", 86400)] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
        assert_eq!(result["spec"]["volumes"].as_array().unwrap().len(), 1);
        assert_eq!(
            result["spec"]["containers"][0]["volumeMounts"],
            json!([token_mount_json()])
        );
        assert_eq!(
            result["spec"]["containers"][1]["volumeMounts"],
            json!([token_mount_json()])
        );
    }

    #[test]
    fn token_expiration_pod_annotation_wins_and_is_floored() {
        let settings =
            sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "3600" }));
        assert_eq!(settings.token_expiration, 3600);
        let low = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "10" }));
        assert_eq!(low.token_expiration, 600);
        let invalid = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, TOKEN_EXPIRATION_ANNOTATION: "1h" }));
        assert_eq!(invalid.token_expiration, 86400);

        for (annotation, expected) in [("7200", 7200), ("0", 600), ("-5", 600), ("abc", 3600)] {
            let p = pod(json!({
                "metadata": { "name": "p", "annotations": { TOKEN_EXPIRATION_ANNOTATION: annotation } },
                "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }] }
            }));
            let result = apply(&p, &patch(mutate(&p, Some(&settings), &upstream())));
            assert_eq!(
                result["spec"]["volumes"][0],
                token_volume_json("sts.amazonaws.com", expected),
                "pod annotation {annotation:?}"
            );
        }
    }

    #[test]
    fn audience_annotation_is_used() {
        let settings = sa(json!({ ROLE_ARN_ANNOTATION: ROLE, AUDIENCE_ANNOTATION: "my-aud" }));
        let p = simple_pod();
        let result = apply(&p, &patch(mutate(&p, Some(&settings), &upstream())));
        assert_eq!(
            result["spec"]["volumes"][0],
            token_volume_json("my-aud", 86400)
        );
    }

    #[test]
    fn regional_sts_annotation_parses_like_go() {
        for (value, expected) in [
            ("true", true),
            ("1", true),
            ("T", true),
            ("false", false),
            ("yes", false),
        ] {
            let settings =
                sa(json!({ ROLE_ARN_ANNOTATION: ROLE, STS_REGIONAL_ENDPOINTS_ANNOTATION: value }));
            assert_eq!(settings.regional_sts, expected, "{value}");
        }
    }

    #[test]
    fn windows_pods_get_a_windows_token_path() {
        for key in ["kubernetes.io/os", "beta.kubernetes.io/os"] {
            let p = pod(json!({
                "metadata": { "name": "p" },
                "spec": { "serviceAccountName": "default", "nodeSelector": { key: "windows" }, "containers": [{ "name": "app" }] }
            }));
            let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &upstream())));
            assert_eq!(
                result["spec"]["containers"][0]["env"][1]["value"],
                "C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token"
            );
            assert_eq!(
                result["spec"]["containers"][0]["volumeMounts"][0]["mountPath"],
                TOKEN_MOUNT_PATH
            );
        }
    }

    #[test]
    fn skips_have_reasons() {
        let p = simple_pod();
        assert!(skip_reason(mutate(&p, None, &upstream())).contains("not found"));
        let no_role = sa(json!({ AUDIENCE_ANNOTATION: "x" }));
        assert!(skip_reason(mutate(&p, Some(&no_role), &upstream())).contains("role-arn"));
        let empty_role = sa(json!({ ROLE_ARN_ANNOTATION: "" }));
        assert!(skip_reason(mutate(&p, Some(&empty_role), &upstream())).contains("role-arn"));

        let labelled = pod(json!({
            "metadata": { "name": "p", "labels": { SKIP_POD_LABEL: "true" } },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }] }
        }));
        assert!(skip_reason(mutate(&labelled, Some(&role_sa()), &upstream())).contains("labelled"));
        let empty = pod(json!({ "metadata": { "name": "p" }, "spec": { "containers": [] } }));
        assert!(
            skip_reason(mutate(&empty, Some(&role_sa()), &upstream())).contains("no containers")
        );
    }

    #[test]
    fn emulator_additions_point_sdks_at_the_emulator() {
        let config =
            MutationConfig::emulator(Some("us-east-1".into()), "https://10.0.0.1:8443/", true);
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default", "containers": [
                { "name": "app" },
                { "name": "own", "env": [{ "name": "AWS_ENDPOINT_URL_STS", "value": "https://mine" }] } ] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
        let env = &result["spec"]["containers"][0]["env"];
        let value = |name: &str| {
            env.as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == name)
                .map(|e| e["value"].clone())
        };
        assert_eq!(
            value("AWS_ENDPOINT_URL_STS"),
            Some(json!("https://10.0.0.1:8443"))
        );
        assert_eq!(
            value("AWS_CA_BUNDLE"),
            Some(json!("/var/run/secrets/irsa-emulator/ca.pem"))
        );
        assert_eq!(
            result["spec"]["volumes"],
            json!([token_volume_json("sts.amazonaws.com", 86400), { "name": "irsa-emulator-ca", "configMap": { "name": "irsa-emulator-ca" } }])
        );
        assert_eq!(
            result["spec"]["containers"][0]["volumeMounts"][1],
            json!({ "name": "irsa-emulator-ca", "readOnly": true, "mountPath": CA_MOUNT_PATH })
        );
        let own = result["spec"]["containers"][1]["env"].as_array().unwrap();
        assert_eq!(
            own.iter()
                .filter(|e| e["name"] == "AWS_ENDPOINT_URL_STS")
                .count(),
            1
        );
        assert_eq!(own[0]["value"], "https://mine");

        // Plain HTTP: no CA to trust, so no bundle and no volume.
        let http = MutationConfig::emulator(None, "http://127.0.0.1:8080", false);
        let result = apply(
            &simple_pod(),
            &patch(mutate(&simple_pod(), Some(&role_sa()), &http)),
        );
        assert_eq!(result["spec"]["volumes"].as_array().unwrap().len(), 1);
        assert!(!result.to_string().contains("AWS_CA_BUNDLE"));
    }

    #[test]
    fn emulator_additions_with_existing_volumes_append_the_ca_volume() {
        let config = MutationConfig::emulator(None, "https://e", true);
        let p = pod(json!({
            "metadata": { "name": "p" },
            "spec": { "serviceAccountName": "default", "containers": [{ "name": "app" }], "volumes": [{ "name": "data", "emptyDir": {} }] }
        }));
        let result = apply(&p, &patch(mutate(&p, Some(&role_sa()), &config)));
        let names: Vec<_> = result["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].clone())
            .collect();
        assert_eq!(
            names,
            [
                json!("aws-iam-token"),
                json!("data"),
                json!("irsa-emulator-ca")
            ]
        );
    }

    #[test]
    fn csv_matches_go() {
        let record = |s: &str| first_csv_record(s);
        assert_eq!(record("a,b"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(record("a, b"), Some(vec!["a".into(), " b".into()]));
        assert_eq!(record("a,"), Some(vec!["a".into(), "".into()]));
        assert_eq!(record("\"a,b\",c"), Some(vec!["a,b".into(), "c".into()]));
        assert_eq!(record("\"a\"\"b\""), Some(vec!["a\"b".into()]));
        assert_eq!(record("\n\na,b\nc"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(record("a\r\nb"), Some(vec!["a".into()]));
        assert_eq!(record(""), None);
        assert_eq!(record("a\"b"), None);
        assert_eq!(record("\"ab"), None);
        assert_eq!(record("\"a\"b"), None);
    }

    #[test]
    fn go_int_parsing() {
        assert_eq!(parse_go_int("600"), Some(600));
        assert_eq!(parse_go_int("+600"), Some(600));
        assert_eq!(parse_go_int("-1"), Some(-1));
        assert_eq!(parse_go_int(" 1"), None);
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_int("99999999999999999999"), None);
    }

    #[test]
    fn role_arn_shape() {
        assert!(looks_like_role_arn(ROLE));
        assert!(looks_like_role_arn(
            "arn:aws-us-gov:iam::111122223333:role/path/name@x"
        ));
        assert!(!looks_like_role_arn("s3-reader"));
        assert!(!looks_like_role_arn("arn:aws:iam::1111:role/x"));
    }
}
