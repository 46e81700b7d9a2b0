//! Logging set-up for the `otc-server` binary, and the helpers the server
//! writes log lines with.
//!
//! * **Filter**: `--log-level` (or `OTC_LOG_LEVEL`), else `RUST_LOG`, else
//!   the command's default. Either a level (`error`, `warn`, `info`,
//!   `debug`, `trace`, `off`) or a comma-separated list of `LEVEL` and
//!   `TARGET=LEVEL` directives (`info,otc_server::hub=debug`). Anything
//!   else is refused at start-up ([`filter`]): tracing's own parser takes
//!   a bare word such as `inf` for a target name, which silently turns
//!   every line of the server off.
//! * **Format**: `--log-format text|json` (`OTC_LOG_FORMAT`). `json` writes
//!   one JSON object per line (`timestamp`, `level`, `target`, and
//!   `fields` holding `message` and the line's fields).
//! * **Colour**: text lines carry ANSI colours only when stderr is a
//!   terminal and `NO_COLOR` is unset or empty, so a redirected log is
//!   plain text.
//!
//! Values a client chose (session ids, API keys) go through [`clip`] before
//! they reach a log line.

use std::fmt;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::str::FromStr;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::EnvFilter;

use crate::config::Config;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Parses a log filter strictly (see the module docs). `origin` names where
/// it came from, for the error message.
pub fn filter(spec: &str, origin: &str) -> Result<EnvFilter, String> {
    let bad = |why: String| {
        format!(
            "invalid log level {spec:?} ({origin}): {why}; use error, warn, info, debug, trace \
             or off, or directives such as info,otc_server::hub=debug"
        )
    };
    let directives: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if directives.is_empty() {
        return Err(bad("it is empty".into()));
    }
    for d in &directives {
        let level = match d.rsplit_once('=') {
            Some((target, level)) => {
                if target.trim().is_empty() {
                    return Err(bad(format!("{d:?} names no target")));
                }
                level.trim()
            }
            None => d,
        };
        if LevelFilter::from_str(level).is_err() {
            return Err(bad(format!("{level:?} is not a level")));
        }
    }
    EnvFilter::builder()
        .parse(directives.join(","))
        .map_err(|e| bad(e.to_string()))
}

/// Chooses the filter: `level` (the flag or `OTC_LOG_LEVEL`), else
/// `RUST_LOG`, else `default`.
fn choose_filter(level: Option<&str>, default: &str) -> Result<EnvFilter, String> {
    if let Some(l) = level {
        return filter(l, "--log-level / OTC_LOG_LEVEL");
    }
    match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => filter(&v, "RUST_LOG"),
        Ok(_) | Err(std::env::VarError::NotPresent) => filter(default, "default"),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("invalid log level: RUST_LOG is not valid UTF-8".into())
        }
    }
}

/// Should text lines be coloured?
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Installs the process's log subscriber, writing to stderr. Fails on an
/// invalid filter (see the module docs).
pub fn init(level: Option<&str>, format: LogFormat, default: &str) -> Result<(), String> {
    let filter = choose_filter(level, default)?;
    let installed = match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(colour())
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init(),
    };
    installed.map_err(|e| format!("cannot set up logging: {e}"))
}

/// Most characters of a client-chosen value written to a log line.
const CLIP_CHARS: usize = 256;

/// A client-chosen value as it goes into a log line: at most
/// [`CLIP_CHARS`] characters (then `…`), control characters escaped, so a
/// value cannot forge lines or flood the log.
pub struct Clipped<'a>(&'a str, usize);

/// See [`Clipped`].
pub fn clip(s: &str) -> Clipped<'_> {
    Clipped(s, CLIP_CHARS)
}

/// Like [`clip`], for longer text (a refusal's reason, which may quote
/// what the client sent): at most 400 characters.
pub fn clip_long(s: &str) -> Clipped<'_> {
    Clipped(s, 400)
}

impl fmt::Display for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i == self.1 {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// A peer address for a log line (`-` when unknown).
pub struct Peer(Option<SocketAddr>);

/// See [`Peer`].
pub fn peer(p: Option<SocketAddr>) -> Peer {
    Peer(p)
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("-"),
        }
    }
}

fn bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{}MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{}KiB", n / 1024)
    } else {
        format!("{n}B")
    }
}

/// The limits in one short line, for the start-up log.
pub fn limits_summary(config: &Config) -> String {
    let l = &config.limits;
    format!(
        "connections/session={} rate={}/s burst={} queue={}f/{} replay={}f/{} session_buffer={} \
         grace={}ms idle={}ms auth={}ms pending={} ({}/ip)",
        l.max_connections_per_session,
        l.signal_rate_per_sec,
        l.signal_burst,
        l.send_queue_frames,
        bytes(l.send_queue_bytes),
        l.replay_buffer_frames,
        bytes(l.replay_buffer_bytes),
        bytes(l.session_buffer_bytes),
        l.reconnect_grace.as_millis(),
        l.idle_timeout.as_millis(),
        l.auth_timeout.as_millis(),
        l.max_pending_connections,
        l.max_pending_per_ip,
    )
}

/// The one start-up line: version, addresses, projects, limits.
pub(crate) fn log_start(
    config: &Config,
    listen: SocketAddr,
    metrics: Option<SocketAddr>,
    tls: bool,
) {
    let metrics = match metrics {
        Some(a) => format!("http://{a}/metrics"),
        None => "on the main listener".to_string(),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        %listen,
        ws_path = protocol::WS_PATH,
        projects = config.projects.len(),
        tls,
        metrics,
        limits = limits_summary(config),
        "otc-server {} listening on {listen}",
        env!("CARGO_PKG_VERSION"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_levels_or_target_directives() {
        for ok in [
            "info",
            "WARN",
            "off",
            "debug,otc_server::hub=trace",
            "otc_server=debug",
            " info , hyper=warn ",
            "3",
        ] {
            assert!(filter(ok, "test").is_ok(), "{ok}");
        }
        for bad in [
            "inf",
            "",
            " , ",
            "otc_server",
            "=debug",
            "info,verbose",
            "x=loud",
        ] {
            let e = filter(bad, "test").expect_err(bad);
            assert!(e.contains("invalid log level"), "{e}");
        }
    }

    #[test]
    fn clip_escapes_and_truncates() {
        assert_eq!(clip("a\nb\x1b[0m").to_string(), "a\\nb\\u{1b}[0m");
        let long = "x".repeat(1000);
        let c = clip(&long).to_string();
        assert_eq!(c.chars().count(), CLIP_CHARS + 1);
        assert!(c.ends_with('…'));
        assert_eq!(peer(None).to_string(), "-");
    }

    #[test]
    fn summary_names_the_limits() {
        let s = limits_summary(&Config::dev());
        assert!(s.contains("rate=5000/s"), "{s}");
        assert!(s.contains("replay=8192f/96MiB"), "{s}");
    }
}
