//! TLS termination: the listener serves https and wss on its one port when
//! it is given a certificate chain and its private key (PEM files).
//!
//! rustls does the TLS, with the ring provider chosen explicitly (so the
//! server does not depend on which provider other crates in a build
//! enable). What this module adds:
//!
//! * loading the two files with errors that say which file is wrong and
//!   how: unreadable, not PEM, no certificate, no key, a key rustls cannot
//!   use, or a key that is not the certificate's;
//! * reloading ([`ServerHandle::reload_tls`](crate::ServerHandle::reload_tls),
//!   on SIGHUP in the binary): both files are read again and, only if they
//!   load, handshakes from then on use the new certificate. Established connections keep the session they have. A
//!   failed reload leaves the running certificate in place. Each load builds
//!   a fresh rustls `ServerConfig`, so a client cannot resume a session
//!   made under the old certificate after a reload either;
//! * [`CertInfo`]: subject, serial number and expiry of the certificate
//!   being served, read from its DER for the logs (a small reader of just
//!   those fields; rustls has already parsed the certificate when it is
//!   read).
//!
//! The handshake itself runs in [`crate::server`], inside the connection's
//! pending slot and under a deadline.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The certificate chain and private key files to serve TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain: the server's certificate first, then its
    /// intermediates.
    pub cert: PathBuf,
    /// PEM private key of that certificate (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key: PathBuf,
}

/// Why a certificate or key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} file {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("the TLS {what} file {path} is not valid PEM: {detail}")]
    Pem {
        what: &'static str,
        path: String,
        detail: String,
    },
    #[error(
        "the TLS certificate file {path} holds no certificate \
         (expected PEM blocks `-----BEGIN CERTIFICATE-----`)"
    )]
    NoCertificate { path: String },
    #[error(
        "the TLS key file {path} holds no private key (expected a PEM block \
         `-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`)"
    )]
    NoKey { path: String },
    #[error("the private key in {path} cannot be used for TLS: {detail}")]
    BadKey { path: String, detail: String },
    #[error(
        "the private key in {key} does not belong to the certificate in {cert} \
         (their public keys differ; the first certificate in the file must be \
         the server's own, followed by its intermediates)"
    )]
    Mismatch { cert: String, key: String },
    #[error("the TLS certificate in {path} cannot be used: {detail}")]
    BadCertificate { path: String, detail: String },
}

/// What the logs say about a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The subject's attributes, like `CN=example.com, O=Example`; empty if
    /// the certificate has none (or could not be read).
    pub subject: String,
    /// The serial number in hex.
    pub serial: String,
    /// End of validity: `YYYY-MM-DD HH:MM:SS UTC` and seconds since the
    /// Unix epoch.
    pub not_after: Option<(String, i64)>,
    /// Certificates in the chain, the server's own included.
    pub chain_len: usize,
}

impl CertInfo {
    /// Whether the certificate's validity ended before `now`.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        let Some((_, end)) = &self.not_after else {
            return false;
        };
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        *end < now
    }
}

impl fmt::Display for CertInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subject = if self.subject.is_empty() {
            "(none)"
        } else {
            &self.subject
        };
        write!(f, "subject \"{subject}\", serial {}", self.serial)?;
        if let Some((end, _)) = &self.not_after {
            write!(f, ", valid until {end}")?;
        }
        if self.chain_len > 1 {
            write!(f, ", {} certificates in the chain", self.chain_len)?;
        }
        Ok(())
    }
}

/// The TLS side of the listener: the files and the configuration new
/// handshakes use.
#[derive(Debug)]
pub(crate) struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<ServerConfig>>,
}

impl Tls {
    /// Loads both files; fails with what is wrong with them.
    pub(crate) fn load(files: TlsFiles) -> Result<(Tls, CertInfo), TlsError> {
        let provider = Arc::new(ring::default_provider());
        let (config, info) = load_config(&files, &provider)?;
        let tls = Tls {
            files,
            provider,
            current: RwLock::new(Arc::new(config)),
        };
        Ok((tls, info))
    }

    /// Reads both files again. On success, handshakes from now on use them;
    /// on failure nothing changes.
    pub(crate) fn reload(&self) -> Result<CertInfo, TlsError> {
        let (config, info) = load_config(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
        Ok(info)
    }

    /// An acceptor with the current certificate.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        let config = self.current.read().unwrap_or_else(|e| e.into_inner());
        TlsAcceptor::from(Arc::clone(&config))
    }

    pub(crate) fn files(&self) -> &TlsFiles {
        &self.files
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: shown(path),
        source,
    })
}

/// Reads, parses and checks the two files, and builds the rustls
/// configuration for them.
fn load_config(
    files: &TlsFiles,
    provider: &Arc<CryptoProvider>,
) -> Result<(ServerConfig, CertInfo), TlsError> {
    let cert_path = shown(&files.cert);
    let key_path = shown(&files.key);

    let cert_pem = read("certificate", &files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what: "certificate",
            path: cert_path.clone(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: cert_path });
    }

    let key_pem = read("key", &files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoKey {
            path: key_path.clone(),
        },
        e => TlsError::Pem {
            what: "key",
            path: key_path.clone(),
            detail: e.to_string(),
        },
    })?;

    let signing = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| TlsError::BadKey {
            path: key_path.clone(),
            detail: e.to_string(),
        })?;
    match CertifiedKey::new(chain.clone(), signing).keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(TlsError::Mismatch {
                cert: cert_path,
                key: key_path,
            })
        }
        // The provider cannot tell this key's public half: rustls accepts
        // such keys too, and the handshake would show a mismatch.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(e) => {
            return Err(TlsError::BadCertificate {
                path: cert_path,
                detail: e.to_string(),
            })
        }
    }

    let info = cert_info(&chain);
    let mut config = ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::BadCertificate {
            path: cert_path,
            detail: e.to_string(),
        })?;
    // The listener speaks HTTP/1.1 only (the WebSocket upgrade included).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, info))
}

fn cert_info(chain: &[CertificateDer<'_>]) -> CertInfo {
    let mut info = chain
        .first()
        .and_then(|c| parse_cert(c.as_ref()))
        .unwrap_or(CertInfo {
            subject: String::new(),
            serial: "(unreadable)".into(),
            not_after: None,
            chain_len: 0,
        });
    info.chain_len = chain.len();
    info
}

// --- just enough DER for the logs ------------------------------------------

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const EXPLICIT_0: u8 = 0xa0;

/// DER elements one after another.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next element's tag and contents.
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(n)?;
            rest = after;
            bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let (body, after) = rest.split_at_checked(len)?;
        self.0 = after;
        Some((tag, body))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.next()? {
            (t, body) if t == tag => Some(body),
            _ => None,
        }
    }
}

/// Subject, serial and end of validity of a DER certificate.
fn parse_cert(der: &[u8]) -> Option<CertInfo> {
    let cert = Der(der).expect(SEQUENCE)?;
    let mut tbs = Der(Der(cert).expect(SEQUENCE)?);
    let mut item = tbs.next()?;
    if item.0 == EXPLICIT_0 {
        item = tbs.next()?;
    }
    let (INTEGER, serial) = item else {
        return None;
    };
    tbs.expect(SEQUENCE)?; // signature algorithm
    tbs.expect(SEQUENCE)?; // issuer
    let mut validity = Der(tbs.expect(SEQUENCE)?);
    validity.next()?; // not before
    let not_after = match validity.next()? {
        (UTC_TIME, t) => parse_time(t, false),
        (GENERALIZED_TIME, t) => parse_time(t, true),
        _ => None,
    };
    let subject = name(tbs.expect(SEQUENCE)?);
    // A positive INTEGER may carry a leading zero byte.
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    Some(CertInfo {
        subject,
        serial: serial.iter().map(|b| format!("{b:02x}")).collect(),
        not_after,
        chain_len: 1,
    })
}

/// `CN=..., O=...` from a Name (the attributes people read; others are
/// skipped).
fn name(body: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut rdns = Der(body);
    while let Some((SET, rdn)) = rdns.next() {
        let mut atvs = Der(rdn);
        while let Some((SEQUENCE, atv)) = atvs.next() {
            let mut atv = Der(atv);
            let Some(oid) = atv.expect(OID) else { continue };
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x07] => "L",
                [0x55, 0x04, 0x08] => "ST",
                _ => continue,
            };
            // UTF8String, PrintableString, IA5String, T61String.
            if let Some((0x0c | 0x13 | 0x16 | 0x14, value)) = atv.next() {
                parts.push(format!("{label}={}", String::from_utf8_lossy(value)));
            }
        }
    }
    parts.join(", ")
}

/// UTCTime `YYMMDDHHMMSSZ` or GeneralizedTime `YYYYMMDDHHMMSSZ`.
fn parse_time(t: &[u8], generalized: bool) -> Option<(String, i64)> {
    let digits = t.strip_suffix(b"Z")?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| {
        s.iter()
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'))
    };
    let (year, rest) = if generalized {
        (num(digits.get(..4)?), digits.get(4..)?)
    } else {
        // RFC 5280: two-digit years 50..99 are 19xx.
        let yy = num(digits.get(..2)?);
        (
            if yy >= 50 { 1900 + yy } else { 2000 + yy },
            digits.get(2..)?,
        )
    };
    if rest.len() != 10 {
        return None;
    }
    let [month, day, hour, minute, second] = [0, 2, 4, 6, 8].map(|i| num(&rest[i..i + 2]));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let unix = days * 86_400 + hour * 3600 + minute * 60 + second;
    let text = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC");
    Some((text, unix))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn times() {
        assert_eq!(
            parse_time(b"991231235959Z", false),
            Some(("1999-12-31 23:59:59 UTC".into(), 946_684_799))
        );
        assert_eq!(
            parse_time(b"20380119031408Z", true),
            Some(("2038-01-19 03:14:08 UTC".into(), 2_147_483_648))
        );
        assert_eq!(parse_time(b"2038011903140Z", true), None);
        assert_eq!(parse_time(b"99123123595", false), None);
        assert_eq!(parse_time(b"991331235959Z", false), None);
    }

    #[test]
    fn reads_an_rcgen_certificate() {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.serial_number = Some(rcgen::SerialNumber::from(vec![0x01, 0x02, 0xfe]));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "otc test");
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        params.not_after = rcgen::date_time_ymd(2031, 7, 4);
        let cert = params.self_signed(&key).expect("cert");
        let info = parse_cert(cert.der()).expect("parses");
        assert_eq!(info.subject, "CN=otc test, O=Example");
        assert_eq!(info.serial, "0102fe");
        let (text, unix) = info.not_after.clone().expect("not after");
        assert_eq!(text, "2031-07-04 00:00:00 UTC");
        assert_eq!(unix, days_from_civil(2031, 7, 4) * 86_400);
        assert!(!info.expired_at(SystemTime::now()));
        assert!(info.expired_at(UNIX_EPOCH + std::time::Duration::from_secs(2_000_000_000)));
        // Truncated input gives up instead of reading past the end.
        for n in 0..cert.der().len() {
            let _ = parse_cert(&cert.der()[..n]);
        }
    }
}
