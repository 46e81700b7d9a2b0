//! TLS for the links to the server and to an `https://` proxy.
//!
//! rustls with its ring provider. What is trusted: the system's store
//! (`rustls-native-certs`: the distribution's bundle, or `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` when set), plus, when one is given, an extra PEM bundle:
//! `otc_session_settings_set_ca_file`, else the environment variable
//! [`CA_FILE_ENV`]. The extra certificates are added to the system's, never
//! in place of them. The host name (or IP address) of the URL is always
//! checked against the certificate, and so are its dates and chain; there
//! is no way to turn that off.
//!
//! The system store is read once per process (on the first TLS connect);
//! a CA file is read when it is set (the setting) or when a session
//! connects (the environment variable).

use std::fmt;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use protocol::ErrorCode;
use rustls::client::ClientConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, RootCertStore};

use crate::error::{Error, Result};
use crate::log;

/// Environment variable naming an extra CA bundle (PEM), used when the
/// session's settings name none.
pub const CA_FILE_ENV: &str = "OTC_CA_FILE";

/// Largest CA file read (the whole Mozilla bundle is about 200 KB).
const MAX_CA_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Extra trusted certificates, read from a PEM file.
#[derive(Clone)]
pub struct CaBundle {
    pub path: String,
    pub certs: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CaBundle({:?}, {} certificate(s))",
            self.path,
            self.certs.len()
        )
    }
}

impl CaBundle {
    /// Reads and checks a PEM bundle: readable, only well-formed PEM, at
    /// least one certificate, each usable as a trust anchor. Every refusal
    /// is `OTC_SESSION_NULL_OR_INVALID_PARAMETER` naming the file and why.
    pub fn load(path: &str) -> Result<CaBundle> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| Error::invalid(format!("cannot read the CA file {path:?}: {e}")))?;
        if bytes.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(Error::invalid(format!(
                "the CA file {path:?} is larger than {MAX_CA_FILE_BYTES} bytes"
            )));
        }
        let mut certs = Vec::new();
        for item in CertificateDer::pem_slice_iter(&bytes) {
            let cert = item.map_err(|e| {
                Error::invalid(format!("the CA file {path:?} is not valid PEM: {e}"))
            })?;
            certs.push(cert);
        }
        if certs.is_empty() {
            return Err(Error::invalid(format!(
                "the CA file {path:?} holds no certificate (expected PEM blocks \
                 \"-----BEGIN CERTIFICATE-----\")"
            )));
        }
        for (i, cert) in certs.iter().enumerate() {
            RootCertStore::empty().add(cert.clone()).map_err(|e| {
                Error::invalid(format!(
                    "certificate {} of the CA file {path:?} is not a usable CA certificate: {e}",
                    i + 1
                ))
            })?;
        }
        Ok(CaBundle {
            path: path.to_string(),
            certs,
        })
    }

    /// The bundle named by [`CA_FILE_ENV`], if it is set and not empty.
    pub fn from_env() -> Result<Option<CaBundle>> {
        match std::env::var(CA_FILE_ENV) {
            Ok(p) if !p.trim().is_empty() => CaBundle::load(&p)
                .map(Some)
                .map_err(|e| Error::new(e.code, format!("{CA_FILE_ENV}: {}", e.reason))),
            _ => Ok(None),
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    static P: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's trusted certificates, read once.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            log::warning!("system trust store: {e}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        if ignored > 0 {
            log::warning!("system trust store: {ignored} certificate(s) could not be used");
        }
        if added == 0 {
            log::warning!(
                "system trust store: no trusted certificate found; TLS connections will \
                 only trust a CA file ({CA_FILE_ENV} or otc_session_settings_set_ca_file)"
            );
        } else {
            log::debug!("system trust store: {added} certificate(s)");
        }
        roots
    })
}

fn build(roots: RootCertStore) -> Result<Arc<ClientConfig>> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS set-up failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The client configuration: the system's roots, plus `extra` if given.
pub fn client_config(extra: Option<&CaBundle>) -> Result<Arc<ClientConfig>> {
    let Some(extra) = extra else {
        static PLAIN: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        if let Some(c) = PLAIN.get() {
            return Ok(c.clone());
        }
        let c = build(system_roots().clone())?;
        return Ok(PLAIN.get_or_init(|| c).clone());
    };
    let mut roots = system_roots().clone();
    for cert in &extra.certs {
        roots.add(cert.clone()).map_err(|e| {
            Error::invalid(format!(
                "the CA file {:?} holds an unusable certificate: {e}",
                extra.path
            ))
        })?;
    }
    build(roots)
}

/// The name a certificate must carry for `host`: its DNS name, or its IP
/// address.
pub fn server_name(host: &url::Host<String>) -> Result<ServerName<'static>> {
    match host {
        url::Host::Domain(d) => ServerName::try_from(d.clone())
            .map_err(|e| Error::invalid(format!("{d:?} is not a valid TLS server name: {e}"))),
        url::Host::Ipv4(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V4(*ip).into())),
        url::Host::Ipv6(ip) => Ok(ServerName::IpAddress(std::net::IpAddr::V6(*ip).into())),
    }
}

/// Why a TLS handshake with `peer` (`"host:port"`, or `"proxy host:port"`)
/// failed, for `on_error`: `OTC_SESSION_CONNECTION_FAILED` and a sentence
/// naming the cause.
pub fn handshake_error(e: std::io::Error, peer: &str, name: &str) -> Error {
    let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let why = match tls {
        Some(rustls::Error::InvalidCertificate(c)) => certificate_problem(c, peer, name),
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("TLS: {peer} refused the handshake (alert {alert:?})")
        }
        Some(rustls::Error::InvalidMessage(_)) => format!(
            "TLS: the handshake with {peer} failed: it does not answer in TLS \
             (a plain http:// or ws:// endpoint?)"
        ),
        Some(other) => format!("TLS: the handshake with {peer} failed: {other}"),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("TLS: {peer} closed the connection during the handshake")
        }
        None => format!("TLS: the handshake with {peer} failed: {e}"),
    };
    Error::new(ErrorCode::ConnectionFailed, why)
}

fn certificate_problem(c: &CertificateError, peer: &str, name: &str) -> String {
    match c {
        CertificateError::NotValidForName => {
            format!("TLS: certificate not valid for name '{name}' ({peer})")
        }
        CertificateError::NotValidForNameContext { presented, .. } => format!(
            "TLS: certificate not valid for name '{name}' ({peer}; it is valid for {})",
            if presented.is_empty() {
                "no name".to_string()
            } else {
                presented
                    .iter()
                    .map(|n| plain_name(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        CertificateError::Expired => format!("TLS: the certificate of {peer} has expired"),
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "TLS: the certificate of {peer} has expired (not valid after {})",
            utc(not_after.as_secs())
        ),
        CertificateError::NotValidYet => {
            format!("TLS: the certificate of {peer} is not valid yet")
        }
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "TLS: the certificate of {peer} is not valid yet (not valid before {})",
            utc(not_before.as_secs())
        ),
        CertificateError::UnknownIssuer => format!(
            "TLS: the certificate of {peer} is not trusted: its issuer is in neither the \
             system's trust store nor the CA file"
        ),
        CertificateError::Revoked => format!("TLS: the certificate of {peer} is revoked"),
        other => format!("TLS: the certificate of {peer} is invalid: {other}"),
    }
}

/// A presented name as webpki spells it (`DnsName("a.example")`,
/// `IpAddress(127.0.0.1)`) without the wrapping.
fn plain_name(n: &str) -> &str {
    for (open, close) in [("DnsName(\"", "\")"), ("IpAddress(", ")")] {
        if let Some(inner) = n.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner;
        }
    }
    n
}

/// Seconds since 1970 as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_lose_their_wrapping() {
        assert_eq!(plain_name("DnsName(\"otc.example\")"), "otc.example");
        assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(plain_name("*.example"), "*.example");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn ca_files_that_cannot_be_used_are_refused_with_the_reason() {
        let dir = std::env::temp_dir().join(format!("otc-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = CaBundle::load(missing.to_str().unwrap()).unwrap_err();
        assert_eq!(e.code, ErrorCode::NullOrInvalidParameter);
        assert!(e.reason.contains("cannot read"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no PEM here\n").unwrap();
        let e = CaBundle::load(empty.to_str().unwrap()).unwrap_err();
        assert!(e.reason.contains("holds no certificate"), "{e}");
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = CaBundle::load(broken.to_str().unwrap()).unwrap_err();
        assert!(e.reason.contains("not valid PEM"), "{e}");
        let junk = dir.join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = CaBundle::load(junk.to_str().unwrap()).unwrap_err();
        assert!(e.reason.contains("not a usable CA certificate"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
