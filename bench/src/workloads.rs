//! The requests the benchmarks send. Names are unique per connection and sequence number, so write-heavy
//! workloads never collide with themselves.

use std::time::Instant;

use http::Request;

use crate::connection::{Body, Connection, Target};
use crate::load::Workload;
use crate::query::{self, form, Signer, IAM_VERSION, STS_VERSION};

/// AssumeRoleWithWebIdentity with one valid token, unsigned, as a pod's SDK sends it.
pub struct WebIdentity {
    pub role_arn: String,
    pub token: String,
}

impl Workload for WebIdentity {
    fn request(&self, target: &Target, worker: usize, _seq: u64) -> anyhow::Result<Request<Body>> {
        let session = format!("bench-{worker}");
        Ok(query::post(
            target,
            form(&[
                ("Action", "AssumeRoleWithWebIdentity"),
                ("Version", STS_VERSION),
                ("RoleArn", &self.role_arn),
                ("RoleSessionName", &session),
                ("WebIdentityToken", &self.token),
            ]),
        ))
    }
}

/// A trust policy any role in the benchmarks can carry.
pub fn trust_policy(account: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

/// CreateRole, GetRole, AttachRolePolicy for one new role, in that order, round after round.
pub struct IamMix {
    pub signer: Signer,
    pub prefix: String,
    pub trust_policy: String,
    pub policy_arn: String,
}

impl Workload for IamMix {
    fn request(&self, target: &Target, worker: usize, seq: u64) -> anyhow::Result<Request<Body>> {
        let name = format!("{}-{worker}-{}", self.prefix, seq / 3);
        let body = match seq % 3 {
            0 => form(&[
                ("Action", "CreateRole"),
                ("Version", IAM_VERSION),
                ("RoleName", &name),
                ("AssumeRolePolicyDocument", &self.trust_policy),
            ]),
            1 => form(&[
                ("Action", "GetRole"),
                ("Version", IAM_VERSION),
                ("RoleName", &name),
            ]),
            _ => form(&[
                ("Action", "AttachRolePolicy"),
                ("Version", IAM_VERSION),
                ("RoleName", &name),
                ("PolicyArn", &self.policy_arn),
            ]),
        };
        self.signer.post(target, "iam", body)
    }
}

/// CreateRole only: fills an account with roles.
pub struct CreateRoles {
    pub signer: Signer,
    pub prefix: String,
    pub trust_policy: String,
}

impl Workload for CreateRoles {
    fn request(&self, target: &Target, worker: usize, seq: u64) -> anyhow::Result<Request<Body>> {
        let name = format!("{}-{worker}-{seq}", self.prefix);
        let body = form(&[
            ("Action", "CreateRole"),
            ("Version", IAM_VERSION),
            ("RoleName", &name),
            ("AssumeRolePolicyDocument", &self.trust_policy),
        ]);
        self.signer.post(target, "iam", body)
    }
}

/// GetRole of one existing role.
pub struct GetRole {
    pub signer: Signer,
    pub role_name: String,
}

impl Workload for GetRole {
    fn request(&self, target: &Target, _worker: usize, _seq: u64) -> anyhow::Result<Request<Body>> {
        let body = form(&[
            ("Action", "GetRole"),
            ("Version", IAM_VERSION),
            ("RoleName", &self.role_name),
        ]);
        self.signer.post(target, "iam", body)
    }
}

/// Lists every role, page by page (MaxItems 1000, the largest IAM allows); returns how many and how long.
pub async fn list_all_roles(
    target: &Target,
    signer: &Signer,
) -> anyhow::Result<(usize, std::time::Duration)> {
    let mut connection = Connection::new(target.clone());
    let started = Instant::now();
    let (mut count, mut marker) = (0, None::<String>);
    loop {
        let mut params = vec![
            ("Action", "ListRoles"),
            ("Version", IAM_VERSION),
            ("MaxItems", "1000"),
        ];
        if let Some(marker) = marker.as_deref() {
            params.push(("Marker", marker));
        }
        let (status, body) = connection
            .send(signer.post(target, "iam", form(&params))?)
            .await?;
        let xml = std::str::from_utf8(&body)?;
        anyhow::ensure!(status.is_success(), "ListRoles: {status}: {xml}");
        count += xml.matches("<RoleName>").count();
        match query::xml_text(xml, "IsTruncated").as_deref() {
            Some("true") => {
                marker = Some(
                    query::xml_text(xml, "Marker")
                        .map(|m| m.into_owned())
                        .ok_or_else(|| {
                            anyhow::anyhow!("ListRoles said IsTruncated=true without a Marker")
                        })?,
                )
            }
            _ => break,
        }
    }
    Ok((count, started.elapsed()))
}
