//! Typed reads and writes over one connection (or transaction). No AWS rules here: callers decide what is
//! allowed, this only stores and finds records.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::model::{Cluster, ManagedPolicy, OidcProvider, Role};
use super::StoreError;

pub struct Db<'a> {
    pub(super) conn: &'a Connection,
}

/// One page of a listing plus the marker for the next, as IAM paginates.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

impl<T> Page<T> {
    /// Cuts one page from a listing that starts at the marker: at most `max` items and, when more follow, the
    /// key of the next one as the marker that resumes there. Every paginated listing is cut here.
    pub fn cut<E>(
        rest: impl IntoIterator<Item = std::result::Result<(String, T), E>>,
        max: usize,
    ) -> std::result::Result<Page<T>, E> {
        let mut items = Vec::new();
        for row in rest {
            let (key, item) = row?;
            if items.len() == max {
                return Ok(Page {
                    items,
                    next_marker: Some(key),
                });
            }
            items.push(item);
        }
        Ok(Page {
            items,
            next_marker: None,
        })
    }
}

/// How many records a reset removed, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Cleared {
    pub roles: usize,
    pub policies: usize,
    pub oidc_providers: usize,
    pub clusters: usize,
    /// Pod Identity associations go with their clusters.
    #[serde(default)]
    pub pod_identity_associations: usize,
}

impl std::fmt::Display for Cleared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "removed {} roles, {} customer managed policies, {} OIDC providers, {} clusters, {} pod identity associations",
            self.roles,
            self.policies,
            self.oidc_providers,
            self.clusters,
            self.pod_identity_associations
        )
    }
}

type Result<T> = std::result::Result<T, StoreError>;

impl<'a> Db<'a> {
    pub(super) fn new(conn: &'a Connection) -> Self {
        Db { conn }
    }

    // Roles are keyed by their lower-cased name: IAM names are unique case-insensitively.

    pub fn role(&self, name: &str) -> Result<Option<Role>> {
        self.get_json(
            "SELECT data FROM roles WHERE name_key = ?1",
            &name.to_lowercase(),
        )
    }

    pub fn put_role(&self, role: &Role) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO roles(name_key, path, data) VALUES (?1, ?2, ?3)",
            params![
                role.name.to_lowercase(),
                role.path,
                serde_json::to_string(role)?
            ],
        )?;
        Ok(())
    }

    pub fn delete_role(&self, name: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM roles WHERE name_key = ?1",
            [name.to_lowercase()],
        )?;
        Ok(())
    }

    /// Roles in name order whose path starts with `path_prefix`, from `marker` (inclusive).
    pub fn list_roles(
        &self,
        path_prefix: &str,
        marker: Option<&str>,
        max: usize,
    ) -> Result<Page<Role>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name_key, data FROM roles
             WHERE name_key >= ?1 AND substr(path, 1, length(?2)) = ?2
             ORDER BY name_key LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![marker.unwrap_or(""), path_prefix, (max + 1) as i64],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?;
        page(rows, max)
    }

    pub fn role_count(&self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM roles", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// In the order they were attached: AWS lists AmazonElasticMapReduceRole, attached first, before
    /// AWSControlTowerServiceRolePolicy (LocalStack's recording, tests/aws/services/iam/
    /// test_iam_roles.snapshot.json "…test_attach_detach_aws_managed_policy_role" list-attached-2; a
    /// case-insensitive order by name would agree, the byte order of the ARNs would not).
    pub fn attached_policies(&self, role_name: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT policy_arn FROM role_attachments WHERE role_key = ?1 ORDER BY rowid",
        )?;
        let arns = stmt
            .query_map([role_name.to_lowercase()], |row| row.get(0))?
            .collect::<std::result::Result<Vec<String>, _>>()?;
        Ok(arns)
    }

    pub fn attach(&self, role_name: &str, policy_arn: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO role_attachments(role_key, policy_arn) VALUES (?1, ?2)",
            params![role_name.to_lowercase(), policy_arn],
        )?;
        Ok(())
    }

    /// Returns whether the attachment existed.
    pub fn detach(&self, role_name: &str, policy_arn: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM role_attachments WHERE role_key = ?1 AND policy_arn = ?2",
            params![role_name.to_lowercase(), policy_arn],
        )?;
        Ok(n > 0)
    }

    pub fn attachment_count(&self, policy_arn: &str) -> Result<usize> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM role_attachments WHERE policy_arn = ?1",
            [policy_arn],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// How many roles each policy is attached to, for the policies attached anywhere (one query, where
    /// ListPolicies would otherwise ask once for each of the 1,500 AWS managed policies).
    pub fn attachment_counts(&self) -> Result<HashMap<String, usize>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT policy_arn, count(*) FROM role_attachments GROUP BY policy_arn",
        )?;
        let counts = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as usize)))?
            .collect::<std::result::Result<HashMap<String, usize>, _>>()?;
        Ok(counts)
    }

    // Customer managed policies. AWS managed ones live in the built-in catalog, not here.

    pub fn policy(&self, arn: &str) -> Result<Option<ManagedPolicy>> {
        self.get_json("SELECT data FROM policies WHERE arn = ?1", arn)
    }

    pub fn policy_name_taken(&self, name: &str) -> Result<bool> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM policies WHERE name_key = ?1",
                [name.to_lowercase()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    pub fn put_policy(&self, policy: &ManagedPolicy) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO policies(arn, name_key, path, data) VALUES (?1, ?2, ?3, ?4)",
            params![
                policy.arn,
                policy.name.to_lowercase(),
                policy.path,
                serde_json::to_string(policy)?
            ],
        )?;
        Ok(())
    }

    pub fn delete_policy(&self, arn: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM policies WHERE arn = ?1", [arn])?;
        Ok(())
    }

    pub fn policies(&self) -> Result<Vec<ManagedPolicy>> {
        self.all_json("SELECT data FROM policies ORDER BY name_key")
    }

    pub fn oidc_provider(&self, arn: &str) -> Result<Option<OidcProvider>> {
        self.get_json("SELECT data FROM oidc_providers WHERE arn = ?1", arn)
    }

    pub fn put_oidc_provider(&self, provider: &OidcProvider) -> Result<()> {
        self.put_json("oidc_providers", "arn", &provider.arn, provider)
    }

    pub fn delete_oidc_provider(&self, arn: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM oidc_providers WHERE arn = ?1", [arn])?;
        Ok(())
    }

    pub fn oidc_providers(&self) -> Result<Vec<OidcProvider>> {
        self.all_json("SELECT data FROM oidc_providers ORDER BY arn")
    }

    pub fn cluster(&self, name: &str) -> Result<Option<Cluster>> {
        self.get_json("SELECT data FROM clusters WHERE name = ?1", name)
    }

    pub fn put_cluster(&self, cluster: &Cluster) -> Result<()> {
        self.put_json("clusters", "name", &cluster.name, cluster)
    }

    /// Deletes the cluster and, as EKS does, its Pod Identity associations.
    pub fn delete_cluster(&self, name: &str) -> Result<bool> {
        self.delete_cluster_associations(name)?;
        Ok(self
            .conn
            .execute("DELETE FROM clusters WHERE name = ?1", [name])?
            > 0)
    }

    pub fn clusters(&self) -> Result<Vec<Cluster>> {
        self.all_json("SELECT data FROM clusters ORDER BY name")
    }

    /// Removes every IAM record (roles with their attachments, customer managed policies, OIDC providers)
    /// and, with `clusters`, every cluster with its Pod Identity associations. The session key stays: sessions
    /// die with their roles anyway.
    pub fn clear(&self, clusters: bool) -> Result<Cleared> {
        let delete = |table: &str| self.conn.execute(&format!("DELETE FROM {table}"), []);
        delete("role_attachments")?;
        Ok(Cleared {
            roles: delete("roles")?,
            policies: delete("policies")?,
            oidc_providers: delete("oidc_providers")?,
            pod_identity_associations: if clusters {
                delete("pod_identity_associations")?
            } else {
                0
            },
            clusters: if clusters { delete("clusters")? } else { 0 },
        })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    pub(super) fn get_json<T: DeserializeOwned>(&self, sql: &str, key: &str) -> Result<Option<T>> {
        let data: Option<String> = self
            .conn
            .prepare_cached(sql)?
            .query_row([key], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    fn all_json<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(serde_json::from_str(&row?)?);
        }
        Ok(out)
    }

    fn put_json<T: Serialize>(
        &self,
        table: &str,
        key_col: &str,
        key: &str,
        value: &T,
    ) -> Result<()> {
        self.conn.execute(
            &format!("INSERT OR REPLACE INTO {table}({key_col}, data) VALUES (?1, ?2)"),
            params![key, serde_json::to_string(value)?],
        )?;
        Ok(())
    }
}

pub(super) fn page<T: DeserializeOwned>(
    rows: impl Iterator<Item = rusqlite::Result<(String, String)>>,
    max: usize,
) -> Result<Page<T>> {
    let page = Page::cut(rows, max)?;
    let items = page
        .items
        .iter()
        .map(|data| serde_json::from_str(data))
        .collect::<std::result::Result<_, _>>()?;
    Ok(Page {
        items,
        next_marker: page.next_marker,
    })
}
