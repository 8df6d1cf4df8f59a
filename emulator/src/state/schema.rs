//! The schema and its migrations. `PRAGMA user_version` counts the steps applied; each step runs in the
//! transaction that raises the count, so a crash (or a `kill -9`) mid-migration leaves the previous version
//! whole and the next start applies the step again.

use rusqlite::Connection;

use super::StoreError;

/// Version 1: what every store had before versions were counted. `IF NOT EXISTS` makes it apply cleanly to
/// those stores too (their `user_version` is 0 with these tables present).
const BASE: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roles(name_key TEXT PRIMARY KEY, path TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS role_attachments(
    role_key TEXT NOT NULL, policy_arn TEXT NOT NULL, PRIMARY KEY(role_key, policy_arn));
CREATE INDEX IF NOT EXISTS role_attachments_by_policy ON role_attachments(policy_arn);
CREATE TABLE IF NOT EXISTS policies(
    arn TEXT PRIMARY KEY, name_key TEXT NOT NULL UNIQUE, path TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oidc_providers(arn TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clusters(name TEXT PRIMARY KEY, data TEXT NOT NULL);
";

/// Version 2: EKS Pod Identity associations, one per (cluster, namespace, service account).
const POD_IDENTITY: &str = "
CREATE TABLE IF NOT EXISTS pod_identity_associations(
    cluster TEXT NOT NULL, id TEXT NOT NULL, namespace TEXT NOT NULL, service_account TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY(cluster, id), UNIQUE(cluster, namespace, service_account));
";

const MIGRATIONS: &[&str] = &[BASE, POD_IDENTITY];

/// The version a store has once [`migrate`] ran.
pub const CURRENT_VERSION: usize = MIGRATIONS.len();

#[derive(Debug, thiserror::Error)]
#[error("the state store has schema version {found}, newer than this irsa-emulator knows ({CURRENT_VERSION}); use a newer irsa-emulator or another --data-dir")]
pub struct TooNew {
    pub found: usize,
}

/// Applies the steps `conn`'s store lacks.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let found = found.max(0) as usize;
    if found > CURRENT_VERSION {
        return Err(StoreError::Schema(TooNew { found }));
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(found) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn a_store_from_before_versions_gains_the_pod_identity_table_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(BASE).unwrap();
        conn.execute("INSERT INTO clusters(name, data) VALUES ('c', '{}')", [])
            .unwrap();
        assert_eq!(version(&conn), 0);
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), CURRENT_VERSION as i64);
        let clusters: i64 = conn
            .query_row("SELECT count(*) FROM clusters", [], |r| r.get(0))
            .unwrap();
        assert_eq!(clusters, 1, "existing rows survive");
        conn.execute(
            "INSERT INTO pod_identity_associations VALUES ('c', 'a-1', 'ns', 'sa', '{}')",
            [],
        )
        .unwrap();
        let duplicate = conn.execute(
            "INSERT INTO pod_identity_associations VALUES ('c', 'a-2', 'ns', 'sa', '{}')",
            [],
        );
        assert!(duplicate.is_err(), "one association per service account");
        migrate(&mut conn).unwrap();
        assert_eq!(version(&conn), CURRENT_VERSION as i64, "idempotent");
    }

    #[test]
    fn a_store_from_a_newer_emulator_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }
}
