//! The HTTP forward proxy of `otc_session_settings_set_proxy_url`.
//!
//! A link through a proxy is a TCP connection to the proxy (TLS to it first
//! for an `https://` proxy), then `CONNECT host:port` for the server, with
//! `Proxy-Authorization: Basic` when the proxy URL holds `user:password@`.
//! Once the proxy answers 2xx the connection is a tunnel to the server:
//! TLS to the server (for `wss://`) and the WebSocket upgrade go through
//! it as they would go over a direct connection. Nothing else selects a
//! proxy: the `http_proxy` / `https_proxy` / `no_proxy` environment
//! variables are not read.

use std::fmt;

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use protocol::ErrorCode;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

/// Longest answer head accepted from a proxy.
const MAX_ANSWER_HEAD: usize = 16 * 1024;

/// A checked proxy URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    pub host: url::Host<String>,
    pub port: u16,
    /// `https://`: TLS to the proxy itself.
    pub tls: bool,
    /// The `Proxy-Authorization` value, when the URL has credentials.
    authorization: Option<String>,
}

/// Never shows the credentials.
impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyConfig({self})")
    }
}

/// `http://host:port` or `https://host:port`, without credentials.
impl fmt::Display for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority())
    }
}

impl ProxyConfig {
    /// Checks a proxy URL: `http://` or `https://`, a host, an optional
    /// port (default 80 or 443) and optional `user:password@` (percent
    /// decoded). A path, if any, is ignored.
    pub fn parse(text: &str) -> Result<ProxyConfig> {
        let url = url::Url::parse(text.trim())
            .map_err(|e| Error::invalid(format!("proxy URL {text:?} is not a URL: {e}")))?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            _ => {
                return Err(Error::invalid(format!(
                    "proxy URL {text:?} must be http://host[:port] or https://host[:port]"
                )))
            }
        };
        let host = match url.host() {
            Some(url::Host::Domain("")) | None => {
                return Err(Error::invalid(format!("proxy URL {text:?} has no host")))
            }
            Some(h) => h.to_owned(),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Error::invalid(format!("proxy URL {text:?} has no port")))?;
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str, what: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| {
                        Error::invalid(format!("the {what} in proxy URL is not UTF-8 once decoded"))
                    })
            };
            let user = decode(url.username(), "user name")?;
            let password = decode(url.password().unwrap_or(""), "password")?;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            Some(format!("Basic {token}"))
        };
        Ok(ProxyConfig {
            host,
            port,
            tls,
            authorization,
        })
    }

    /// `host:port` (IPv6 in brackets).
    pub fn authority(&self) -> String {
        authority(&self.host, self.port)
    }

    /// Asks the proxy, on `stream`, for a tunnel to `target` (`host:port`).
    /// Reads exactly the proxy's answer head: what follows on the stream
    /// belongs to the server.
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        target: &str,
    ) -> Result<()> {
        let me = self.authority();
        let mut request = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nUser-Agent: libopentok/{}\r\n",
            env!("CARGO_PKG_VERSION")
        );
        if let Some(a) = &self.authorization {
            request.push_str("Proxy-Authorization: ");
            request.push_str(a);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let failed = |what: String| Error::new(ErrorCode::ConnectionFailed, what);
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| failed(format!("proxy {me}: cannot send CONNECT: {e}")))?;
        stream
            .flush()
            .await
            .map_err(|e| failed(format!("proxy {me}: cannot send CONNECT: {e}")))?;

        // The answer head, to its blank line. Neither TLS nor the WebSocket
        // upgrade has the server speak first, so nothing of the server's
        // can follow the head before we write again; a byte after it is a
        // proxy that does not speak HTTP correctly.
        let mut head = Vec::with_capacity(256);
        let mut buf = [0u8; 1024];
        let end = loop {
            let n = stream.read(&mut buf).await.map_err(|e| {
                failed(format!(
                    "proxy {me}: reading its answer to CONNECT failed: {e}"
                ))
            })?;
            if n == 0 {
                return Err(failed(format!(
                    "proxy {me} closed the connection before answering CONNECT to {target}"
                )));
            }
            head.extend_from_slice(&buf[..n]);
            if let Some(i) = find(&head, b"\r\n\r\n") {
                break i + 4;
            }
            if head.len() > MAX_ANSWER_HEAD {
                return Err(failed(format!(
                    "proxy {me}: its answer to CONNECT has no end within {MAX_ANSWER_HEAD} bytes"
                )));
            }
        };
        let first = head
            .split(|b| *b == b'\n')
            .next()
            .map(|l| String::from_utf8_lossy(l).trim_end().to_string())
            .unwrap_or_default();
        let (code, reason) = status(&first).ok_or_else(|| {
            failed(format!(
                "proxy {me} answered CONNECT with something that is not HTTP: {:?}",
                first.chars().take(80).collect::<String>()
            ))
        })?;
        if !(200..300).contains(&code) {
            // 407 is the standard answer; some proxies (tinyproxy) send 401
            // for wrong credentials.
            let hint = match (code, self.authorization.is_some()) {
                (407 | 401, false) => {
                    " (the proxy wants credentials: http://user:password@host:port)"
                }
                (407 | 401, true) => " (the credentials in the proxy URL were refused)",
                _ => "",
            };
            return Err(failed(format!(
                "proxy {me} refused CONNECT to {target}: {code} {reason}{hint}"
            )));
        }
        if head.len() > end {
            return Err(failed(format!(
                "proxy {me} sent {} unexpected byte(s) after its answer to CONNECT",
                head.len() - end
            )));
        }
        Ok(())
    }
}

/// `host:port`, with an IPv6 address in brackets.
pub fn authority(host: &url::Host<String>, port: u16) -> String {
    match host {
        url::Host::Ipv6(ip) => format!("[{ip}]:{port}"),
        other => format!("{other}:{port}"),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `HTTP/1.x NNN reason` → (NNN, reason).
fn status(line: &str) -> Option<(u16, String)> {
    let rest = line.strip_prefix("HTTP/")?;
    let mut parts = rest.splitn(3, ' ');
    let _version = parts.next()?;
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    let code = code.parse().ok()?;
    Some((code, parts.next().unwrap_or("").trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let p = ProxyConfig::parse("http://127.0.0.1:3128").unwrap();
        assert_eq!(
            (p.tls, p.port, p.authorization.as_deref()),
            (false, 3128, None)
        );
        assert_eq!(p.to_string(), "http://127.0.0.1:3128");
        let p = ProxyConfig::parse("https://proxy.example.com").unwrap();
        assert_eq!((p.tls, p.port), (true, 443));
        let p = ProxyConfig::parse("http://al%40ice:p%3Ass@[::1]:8080/").unwrap();
        assert_eq!(p.authority(), "[::1]:8080");
        // base64("al@ice:p:ss")
        assert_eq!(p.authorization.as_deref(), Some("Basic YWxAaWNlOnA6c3M="));
        assert!(
            !format!("{p:?}").contains("YWx"),
            "credentials are never shown"
        );
        for bad in ["", "proxy:3128", "ftp://h:21", "socks5://h:1080", "http://"] {
            assert!(ProxyConfig::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            status("HTTP/1.0 200 Connection established"),
            Some((200, "Connection established".into()))
        );
        assert_eq!(
            status("HTTP/1.1 403 Forbidden"),
            Some((403, "Forbidden".into()))
        );
        assert_eq!(status("HTTP/1.1 204"), Some((204, String::new())));
        assert_eq!(status("SSH-2.0-OpenSSH"), None);
        assert_eq!(status("HTTP/1.1 20 x"), None);
    }

    async fn answer(bytes: &'static [u8]) -> Result<()> {
        let (mut client, mut server) = tokio::io::duplex(4096);
        let proxy = ProxyConfig::parse("http://u:p@127.0.0.1:1").unwrap();
        let serve = tokio::spawn(async move {
            let mut req = vec![0u8; 1024];
            let n = server.read(&mut req).await.unwrap();
            server.write_all(bytes).await.unwrap();
            String::from_utf8_lossy(&req[..n]).into_owned()
        });
        let r = proxy.connect(&mut client, "h:443").await;
        let req = serve.await.unwrap();
        assert!(
            req.starts_with("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n"),
            "{req}"
        );
        assert!(req.contains("Proxy-Authorization: Basic dTpw\r\n"), "{req}");
        r
    }

    #[tokio::test]
    async fn connect_answers() {
        answer(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let e = answer(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ConnectionFailed);
        assert_eq!(
            e.reason,
            "proxy 127.0.0.1:1 refused CONNECT to h:443: 403 Forbidden"
        );
        let e = answer(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            .await
            .unwrap_err();
        assert!(
            e.reason
                .contains("credentials in the proxy URL were refused"),
            "{e}"
        );
        let e = answer(b"HTTP/1.1 200 OK\r\n\r\nextra").await.unwrap_err();
        assert!(e.reason.contains("unexpected byte"), "{e}");
        let e = answer(b"garbage\r\n\r\n").await.unwrap_err();
        assert!(e.reason.contains("not HTTP"), "{e}");
    }
}
