//! TLS material: a CA made once per data dir (clients trust it via `AWS_CA_BUNDLE`) and a server
//! certificate it signs for localhost, the loopback addresses and every `--hostname`. The server
//! certificate is re-issued when the name list changes; the CA is kept, so clients keep trusting.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct TlsMaterial {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

fn ca_params() -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "irsa-emulator local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "kubectl-irsa");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    Ok(params)
}

pub fn subject_alt_names(hostnames: &[String]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for h in hostnames {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    names
}

fn server_cert(ca_key: &KeyPair, names: &[String]) -> Result<(String, String), TlsError> {
    let issuer = Issuer::new(ca_params()?, ca_key);
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "irsa-emulator");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Fresh material that lives only as long as the process (`--ephemeral`, tests).
pub fn ephemeral(hostnames: &[String]) -> Result<TlsMaterial, TlsError> {
    let ca_key = KeyPair::generate()?;
    let ca = ca_params()?.self_signed(&ca_key)?;
    let (cert_pem, key_pem) = server_cert(&ca_key, &subject_alt_names(hostnames))?;
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        cert_pem,
        key_pem,
    })
}

pub fn ca_path(data_dir: &Path) -> PathBuf {
    data_dir.join("ca.pem")
}

/// Loads the data dir's CA (making it on first start) and a server certificate for `hostnames`.
pub fn load_or_create(data_dir: &Path, hostnames: &[String]) -> Result<TlsMaterial, TlsError> {
    let ca_key_path = data_dir.join("ca-key.pem");
    let ca_cert_path = ca_path(data_dir);
    let (ca_key, ca_pem) = if ca_key_path.exists() && ca_cert_path.exists() {
        let key_pem = read(&ca_key_path)?;
        (KeyPair::from_pem(&key_pem)?, read(&ca_cert_path)?)
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params()?.self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        write(&ca_cert_path, &cert.pem())?;
        (key, cert.pem())
    };

    let names = subject_alt_names(hostnames);
    let names_path = data_dir.join("server-names.txt");
    let cert_path = data_dir.join("server.pem");
    let key_path = data_dir.join("server-key.pem");
    let current = names.join("\n");
    let reusable = cert_path.exists()
        && key_path.exists()
        && std::fs::read_to_string(&names_path).ok().as_deref() == Some(current.as_str());
    let (cert_pem, key_pem) = if reusable {
        (read(&cert_path)?, read(&key_path)?)
    } else {
        let (cert, key) = server_cert(&ca_key, &names)?;
        write_private(&key_path, &key)?;
        write(&cert_path, &cert)?;
        write(&names_path, &current)?;
        (cert, key)
    };
    Ok(TlsMaterial {
        ca_pem,
        cert_pem,
        key_pem,
    })
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write(path: &Path, contents: &str) -> Result<(), TlsError> {
    std::fs::write(path, contents).map_err(|source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Private keys are readable by their owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    write(path, contents)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
            |source| TlsError::Io {
                path: path.to_path_buf(),
                source,
            },
        )?;
    }
    Ok(())
}
