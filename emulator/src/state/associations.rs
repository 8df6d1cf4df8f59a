//! Pod Identity associations in the store: one row per association, unique per (cluster, namespace, service
//! account) as EKS allows one association for each.

use rusqlite::{params, OptionalExtension};

use super::db::{page, Db, Page};
use super::model::PodIdentityAssociation;
use super::StoreError;

type Result<T> = std::result::Result<T, StoreError>;

/// Which associations a listing returns (ListPodIdentityAssociations' filters and page).
#[derive(Debug, Clone, Default)]
pub struct AssociationFilter<'a> {
    pub namespace: Option<&'a str>,
    pub service_account: Option<&'a str>,
    /// The id to resume at (inclusive): the previous page's marker.
    pub from_id: Option<&'a str>,
}

impl Db<'_> {
    pub fn association(&self, cluster: &str, id: &str) -> Result<Option<PodIdentityAssociation>> {
        let data: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT data FROM pod_identity_associations WHERE cluster = ?1 AND id = ?2",
            )?
            .query_row([cluster, id], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// The association of `namespace/service_account` in `cluster`, if any.
    pub fn association_for(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<PodIdentityAssociation>> {
        let data: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT data FROM pod_identity_associations
                 WHERE cluster = ?1 AND namespace = ?2 AND service_account = ?3",
            )?
            .query_row([cluster, namespace, service_account], |r| r.get(0))
            .optional()?;
        Ok(data.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// Inserts or replaces by id; a second association for the same service account violates the table's
    /// unique key (callers check first, to answer as EKS does).
    pub fn put_association(&self, association: &PodIdentityAssociation) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO pod_identity_associations(cluster, id, namespace, service_account, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                association.cluster_name,
                association.association_id,
                association.namespace,
                association.service_account,
                serde_json::to_string(association)?
            ],
        )?;
        Ok(())
    }

    /// Whether there was such an association.
    pub fn delete_association(&self, cluster: &str, id: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM pod_identity_associations WHERE cluster = ?1 AND id = ?2",
            [cluster, id],
        )?;
        Ok(n > 0)
    }

    pub fn delete_cluster_associations(&self, cluster: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM pod_identity_associations WHERE cluster = ?1",
            [cluster],
        )?)
    }

    /// `cluster`'s associations in id order, filtered, at most `max` from `filter.from_id`.
    pub fn list_associations(
        &self,
        cluster: &str,
        filter: &AssociationFilter,
        max: usize,
    ) -> Result<Page<PodIdentityAssociation>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, data FROM pod_identity_associations
             WHERE cluster = ?1 AND id >= ?2 AND (?3 IS NULL OR namespace = ?3)
               AND (?4 IS NULL OR service_account = ?4)
             ORDER BY id LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![
                cluster,
                filter.from_id.unwrap_or(""),
                filter.namespace,
                filter.service_account,
                (max + 1) as i64
            ],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
        )?;
        page(rows, max)
    }

    /// Every (namespace, service account) of `cluster` that has an association: what the webhook injects for.
    pub fn associated_service_accounts(&self, cluster: &str) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT namespace, service_account FROM pod_identity_associations WHERE cluster = ?1",
        )?;
        let rows = stmt.query_map([cluster], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
