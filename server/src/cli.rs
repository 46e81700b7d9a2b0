//! The `otc-server` command line.
//!
//! ```text
//! otc-server [serve] [--listen ADDR] [limits...]    run the server (default)
//! otc-server create-session [--api-key K]           print a new session id
//! otc-server token --session-id S [--role R] [--data D] [--expire SECONDS] [--legacy]
//! otc-server rest-token [--api-key K] [--expire SECONDS]  print a REST API (project) JWT
//! ```
//!
//! Projects come from `--api-key`/`--api-secret` (`OTC_API_KEY`,
//! `OTC_API_SECRET`) and/or `--config FILE` (`OTC_CONFIG`); with none, the
//! insecure development project ([`crate::DEV_API_KEY`]) is used. Flags win
//! over the config file, which wins over built-in defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::session_id::api_key_of;
use crate::auth::{create_session_id, mint_token, Role, TokenOptions};
use crate::config::{Config, ConfigError, FileConfig, LimitOverrides, Project, ServerLimits};

/// Self-hosted signaling server for Vonage Video (OpenTok) apps.
#[derive(Debug, Parser)]
#[command(name = "otc-server", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Options every subcommand understands.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// TOML config file with `listen`, `[[projects]]` and `[limits]`.
    #[arg(long, env = "OTC_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// API key of the project (with --api-secret: adds that project; alone:
    /// picks one of the configured projects).
    #[arg(long, env = "OTC_API_KEY", global = true)]
    pub api_key: Option<String>,
    /// API secret of the project named by --api-key.
    #[arg(long, env = "OTC_API_SECRET", global = true, hide_env_values = true)]
    pub api_secret: Option<String>,
    /// Log level or filter (error, warn, info, debug, trace, or a
    /// RUST_LOG-style filter). Default: RUST_LOG, else info.
    #[arg(long, env = "OTC_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
    /// Log line format: text, or json (one JSON object per line).
    #[arg(
        long,
        env = "OTC_LOG_FORMAT",
        global = true,
        value_enum,
        default_value_t
    )]
    pub log_format: crate::logging::LogFormat,
}

// Parsed once at start-up; the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Print a new session id.
    CreateSession,
    /// Print a token for a session of the configured project.
    Token(TokenArgs),
    /// Print a project JWT for the REST API (the X-OPENTOK-AUTH header).
    RestToken(RestTokenArgs),
}

/// Options of `rest-token`.
#[derive(Debug, Args, Clone)]
pub struct RestTokenArgs {
    /// Lifetime in seconds (at most 24 hours).
    #[arg(long, default_value_t = 300)]
    pub expire: u64,
}

/// Options of `serve`.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on for WebSocket and HTTP [default: 127.0.0.1:4443].
    #[arg(long, env = "OTC_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Serve /metrics, /healthz and /readyz on this address (plain HTTP)
    /// instead of on the main listener.
    #[arg(long, env = "OTC_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// PEM certificate chain: serve https and wss with it (needs --tls-key).
    #[arg(long, env = "OTC_TLS_CERT", value_name = "PATH")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the --tls-cert certificate.
    #[arg(long, env = "OTC_TLS_KEY", value_name = "PATH")]
    pub tls_key: Option<PathBuf>,
    /// Serve the public development project on a non-loopback address
    /// anyway (its secret is in the README: anyone can mint tokens for it).
    #[arg(long, env = "OTC_ALLOW_DEV_PROJECT", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_dev_project: bool,
    /// Limits (the same fields as the config file's `[limits]` table).
    #[command(flatten)]
    pub limits: LimitOverrides,
}

/// Options of `token`.
#[derive(Debug, Args, Clone)]
pub struct TokenArgs {
    /// Session the token is for (must belong to a configured project).
    #[arg(long)]
    pub session_id: String,
    /// subscriber, publisher, moderator or publisher_only.
    #[arg(long, default_value = "publisher")]
    pub role: Role,
    /// Connection data the other participants see (at most 1000 characters).
    #[arg(long)]
    pub data: Option<String>,
    /// Lifetime in seconds (at most 30 days).
    #[arg(long, default_value_t = 86_400)]
    pub expire: u64,
    /// Mint a legacy `T1==` token instead of a JWT.
    #[arg(long)]
    pub legacy: bool,
}

/// A configuration problem found on the command line.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot mint token: {0}")]
    Token(#[from] crate::TokenError),
}

/// The configuration built from flags, environment and file, and whether
/// the development project was filled in for lack of any other.
#[derive(Debug)]
pub struct Resolved {
    pub config: Config,
    pub using_dev_project: bool,
}

/// Builds the server configuration: built-in defaults, then the config file,
/// then flags.
pub fn resolve(common: &CommonArgs, serve: &ServeArgs) -> Result<Resolved, CliError> {
    let file = match &common.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let mut limits = ServerLimits::default();
    file.limits.apply(&mut limits);
    serve.limits.apply(&mut limits);
    let default_listen: SocketAddr = protocol::limits::DEFAULT_LISTEN_ADDR
        .parse()
        .map_err(|_| CliError::Usage("bad built-in listen address".into()))?;
    let listen = serve.listen.or(file.listen).unwrap_or(default_listen);
    let tls = match (
        serve.tls_cert.clone().or(file.tls_cert),
        serve.tls_key.clone().or(file.tls_key),
    ) {
        (Some(cert), Some(key)) => Some(crate::tls::TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => return Err(CliError::Usage(
            "--tls-cert needs --tls-key too (OTC_TLS_KEY, tls_key in the config file): TLS needs the certificate and its private key".into(),
        )),
        (None, Some(_)) => return Err(CliError::Usage(
            "--tls-key needs --tls-cert too (OTC_TLS_CERT, tls_cert in the config file): TLS needs the certificate and its private key".into(),
        )),
    };
    let allow_dev_project = serve.allow_dev_project || file.allow_dev_project.unwrap_or(false);
    let mut projects = file.projects;
    match (&common.api_key, &common.api_secret) {
        (Some(key), Some(secret)) => {
            projects.retain(|p| &p.api_key != key);
            projects.push(Project {
                api_key: key.clone(),
                api_secret: secret.clone(),
            });
        }
        (None, Some(_)) => return Err(CliError::Usage("--api-secret needs --api-key".into())),
        (Some(key), None) => {
            if !projects.iter().any(|p| &p.api_key == key) {
                return Err(CliError::Usage(format!(
                    "--api-key {key} is not a configured project; give --api-secret too"
                )));
            }
        }
        (None, None) => {}
    }
    let using_dev_project = projects.is_empty();
    if using_dev_project {
        projects.push(Project::dev());
    }
    let config = Config {
        listen,
        metrics_listen: serve.metrics_listen.or(file.metrics_listen),
        projects,
        limits,
        tls,
        allow_dev_project,
    };
    config.validate()?;
    Ok(Resolved {
        config,
        using_dev_project,
    })
}

/// `create-session`: a new session id for the project named by `--api-key`
/// (or the only/first configured one).
pub fn create_session(common: &CommonArgs) -> Result<String, CliError> {
    let r = resolve(common, &ServeArgs::default())?;
    let project = match &common.api_key {
        Some(k) => r.config.project(k),
        None => r.config.projects.first(),
    }
    .ok_or_else(|| CliError::Usage("no project configured".into()))?;
    Ok(create_session_id(project))
}

/// `token`: a token for the session's project (found from the API key the
/// session id carries).
pub fn token(common: &CommonArgs, args: &TokenArgs) -> Result<String, CliError> {
    let r = resolve(common, &ServeArgs::default())?;
    let key = api_key_of(&args.session_id)
        .map_err(|e| CliError::Usage(format!("session id {:?}: {e}", args.session_id)))?;
    let project = r.config.project(&key).ok_or_else(|| {
        CliError::Usage(format!(
            "session id belongs to project {key}, which is not configured"
        ))
    })?;
    let opts = TokenOptions {
        role: args.role,
        data: args.data.clone(),
        expire_in: Duration::from_secs(args.expire),
        legacy: args.legacy,
    };
    Ok(mint_token(project, &args.session_id, &opts)?)
}

/// `rest-token`: a project JWT for the REST API, for the project named by
/// `--api-key` (or the only/first configured one).
pub fn rest_token(common: &CommonArgs, args: &RestTokenArgs) -> Result<String, CliError> {
    let r = resolve(common, &ServeArgs::default())?;
    let project = match &common.api_key {
        Some(k) => r.config.project(k),
        None => r.config.projects.first(),
    }
    .ok_or_else(|| CliError::Usage("no project configured".into()))?;
    crate::rest::mint_rest_token(project, Duration::from_secs(args.expire))
        .map_err(|e| CliError::Usage(e.message.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_dev_project_on_fixed_port() {
        let r = resolve(&CommonArgs::default(), &ServeArgs::default()).expect("resolve");
        assert!(r.using_dev_project);
        assert_eq!(
            r.config.listen.to_string(),
            protocol::limits::DEFAULT_LISTEN_ADDR
        );
        assert_eq!(r.config.projects, vec![Project::dev()]);
    }

    #[test]
    fn flags_parse_and_token_round_trips() {
        let cli = Cli::try_parse_from([
            "otc-server",
            "--api-key",
            "777",
            "--api-secret",
            "sss-0123456789abcdef0123456789abcdef",
            "--listen",
            "127.0.0.1:9999",
            "--signal-rate",
            "3",
            "--http-header-timeout-ms",
            "700",
            "--max-pending-connections",
            "100",
        ])
        .expect("parse");
        assert!(cli.command.is_none());
        let r = resolve(&cli.common, &cli.serve).expect("resolve");
        assert!(!r.using_dev_project);
        assert_eq!(r.config.limits.signal_rate_per_sec, 3);
        assert_eq!(
            r.config.limits.http_header_timeout,
            Duration::from_millis(700)
        );
        assert_eq!(r.config.limits.max_pending_connections, 100);
        assert_eq!(r.config.listen.port(), 9999);

        let sid = create_session(&cli.common).expect("session");
        let args = TokenArgs {
            session_id: sid.clone(),
            role: Role::Subscriber,
            data: Some("d".into()),
            expire: 60,
            legacy: true,
        };
        let t = token(&cli.common, &args).expect("token");
        let p = r.config.project("777").expect("project");
        let g = crate::verify_token(p, &sid, &t).expect("verify");
        assert_eq!(g.role, Role::Subscriber);

        let sub =
            Cli::try_parse_from(["otc-server", "token", "--session-id", "x", "--role", "boss"]);
        assert!(sub.is_err(), "unknown role refused");
        assert!(resolve(
            &CommonArgs {
                api_secret: Some("s".into()),
                ..Default::default()
            },
            &ServeArgs::default()
        )
        .is_err());
    }

    #[test]
    fn tls_needs_both_files_and_dev_project_flag_parses() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["otc-server"], args].concat()).expect("parse");
            resolve(&cli.common, &cli.serve)
        };
        let r = parse(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]).expect("both");
        let tls = r.config.tls.expect("tls");
        assert_eq!(tls.cert, PathBuf::from("c.pem"));
        assert_eq!(tls.key, PathBuf::from("k.pem"));
        assert!(!r.config.allow_dev_project);
        for (args, missing) in [
            (&["--tls-cert", "c.pem"][..], "--tls-key"),
            (&["--tls-key", "k.pem"][..], "--tls-cert"),
        ] {
            let e = parse(args).expect_err("one of two").to_string();
            assert!(e.contains(&format!("needs {missing} too")), "{e}");
        }
        assert!(
            parse(&["--allow-dev-project"])
                .expect("flag")
                .config
                .allow_dev_project
        );
        assert!(parse(&[]).expect("none").config.tls.is_none());
    }
}
