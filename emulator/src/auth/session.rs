//! Temporary credentials without a database write per STS call, as real STS issues them: the session
//! travels sealed inside the session token, and the secret key is derived from the access key id with a
//! server key. Both survive restarts because the server key is kept in the data dir's state.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::state::model::Tag;
use crate::state::{Store, StoreError};

const META_KEY: &str = "session_key";
/// Marks tokens of this format so a change of format can be recognised.
const TOKEN_VERSION: u8 = 1;

/// Who a set of temporary credentials speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionPrincipal {
    AssumedRole {
        role_name: String,
        role_arn: String,
        role_id: String,
        session_name: String,
    },
    /// GetSessionToken for the admin user.
    AdminUser,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub principal: SessionPrincipal,
    pub expiration: DateTime<Utc>,
    /// An inline session policy (AssumeRole*'s `Policy`) further limiting the role's permissions.
    pub session_policy: Option<String>,
    #[serde(default)]
    pub source_identity: Option<String>,
    /// Session tags (EKS Pod Identity's, for one): policies see them as `aws:PrincipalTag/<key>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The keys of `tags` a role chained from this session inherits (AssumeRole's `TransitiveTagKeys`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
}

/// What a new set of temporary credentials is for: sealed whole into the session token.
pub struct SessionGrant {
    pub principal: SessionPrincipal,
    pub expiration: DateTime<Utc>,
    pub session_policy: Option<String>,
    pub source_identity: Option<String>,
    pub tags: Vec<Tag>,
    pub transitive_tag_keys: Vec<String>,
}

impl SessionGrant {
    /// A session with no policy, source identity or tags.
    pub fn plain(principal: SessionPrincipal, expiration: DateTime<Utc>) -> Self {
        SessionGrant {
            principal,
            expiration,
            session_policy: None,
            source_identity: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
        }
    }
}

pub struct IssuedCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: DateTime<Utc>,
}

pub struct SessionKeys {
    key: [u8; 32],
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the security token is not one this emulator issued")]
    Invalid,
}

/// Why the server key could not be loaded at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SessionKeyError {
    #[error("cannot read or store the session key: {0}")]
    Store(#[from] StoreError),
    #[error("the stored session key is corrupt")]
    Corrupt,
    #[error("the stored session key has the wrong length")]
    WrongLength,
}

impl SessionKeys {
    /// The store's key, made on first use. Kept with the state so credentials outlive restarts.
    pub fn load_or_create(store: &Store) -> Result<SessionKeys, SessionKeyError> {
        let encoded = store.write(|db| -> Result<String, StoreError> {
            if let Some(existing) = db.meta(META_KEY)? {
                return Ok(existing);
            }
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            let encoded = STANDARD.encode(key);
            db.set_meta(META_KEY, &encoded)?;
            Ok(encoded)
        })?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SessionKeyError::Corrupt)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SessionKeyError::WrongLength)?;
        Ok(SessionKeys { key })
    }

    /// `ASIA` + 16 characters, as STS issues temporary access keys.
    fn new_access_key_id() -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let suffix: String = bytes
            .iter()
            .map(|b| ALPHABET[(*b as usize) % 32] as char)
            .collect();
        format!("ASIA{suffix}")
    }

    /// The 40-character secret that belongs to `access_key_id`.
    pub fn secret_for(&self, access_key_id: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"secret-access-key:");
        mac.update(access_key_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut secret = URL_SAFE_NO_PAD.encode(digest);
        secret.truncate(40);
        secret
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    pub fn issue(&self, grant: SessionGrant) -> IssuedCredentials {
        let access_key_id = Self::new_access_key_id();
        let SessionGrant {
            principal,
            expiration,
            session_policy,
            source_identity,
            tags,
            transitive_tag_keys,
        } = grant;
        let session = Session {
            access_key_id: access_key_id.clone(),
            principal,
            expiration,
            session_policy,
            source_identity,
            tags,
            transitive_tag_keys,
        };
        let plaintext = serde_json::to_vec(&session).expect("session serializes");
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_slice())
            .expect("encryption with a valid key cannot fail");
        let mut token = vec![TOKEN_VERSION];
        token.extend_from_slice(&nonce);
        token.extend_from_slice(&sealed);
        IssuedCredentials {
            secret_access_key: self.secret_for(&access_key_id),
            access_key_id,
            session_token: STANDARD.encode(token),
            expiration,
        }
    }

    /// The session sealed in `token`, if this emulator sealed it for `access_key_id`. Expiry is the
    /// caller's to check, so it can answer ExpiredToken rather than "invalid".
    pub fn open(&self, access_key_id: &str, token: &str) -> Result<Session, SessionError> {
        let raw = STANDARD.decode(token).map_err(|_| SessionError::Invalid)?;
        if raw.len() < 13 || raw[0] != TOKEN_VERSION {
            return Err(SessionError::Invalid);
        }
        let plaintext = self
            .cipher()
            .decrypt(Nonce::from_slice(&raw[1..13]), &raw[13..])
            .map_err(|_| SessionError::Invalid)?;
        let session: Session =
            serde_json::from_slice(&plaintext).map_err(|_| SessionError::Invalid)?;
        if session.access_key_id != access_key_id {
            return Err(SessionError::Invalid);
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SessionKeys {
        SessionKeys::load_or_create(&Store::open(None).unwrap()).unwrap()
    }

    #[test]
    fn issued_credentials_open_only_with_their_key_id() {
        let keys = keys();
        let creds = keys.issue(SessionGrant::plain(SessionPrincipal::AdminUser, Utc::now()));
        assert!(creds.access_key_id.starts_with("ASIA"));
        assert_eq!(creds.access_key_id.len(), 20);
        assert_eq!(creds.secret_access_key.len(), 40);
        assert_eq!(
            keys.secret_for(&creds.access_key_id),
            creds.secret_access_key
        );
        let session = keys
            .open(&creds.access_key_id, &creds.session_token)
            .unwrap();
        assert_eq!(session.principal, SessionPrincipal::AdminUser);
        assert!(matches!(
            keys.open("ASIAOTHEROTHEROTHER0", &creds.session_token),
            Err(SessionError::Invalid)
        ));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_rejected() {
        let keys = keys();
        let creds = keys.issue(SessionGrant::plain(SessionPrincipal::AdminUser, Utc::now()));
        let mut raw = STANDARD.decode(&creds.session_token).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(matches!(
            keys.open(&creds.access_key_id, &STANDARD.encode(raw)),
            Err(SessionError::Invalid)
        ));
        let other = self::keys();
        assert!(matches!(
            other.open(&creds.access_key_id, &creds.session_token),
            Err(SessionError::Invalid)
        ));
        assert!(matches!(
            keys.open(&creds.access_key_id, "garbage"),
            Err(SessionError::Invalid)
        ));
    }
}
