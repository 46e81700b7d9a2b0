//! The `otc-server` command line.
//!
//! ```text
//! otc-server [serve] [--listen ADDR] [limits...]    run the server (default)
//! otc-server check-config [--config FILE] [...]     check the configuration, print it
//! otc-server create-session [--api-key K]           print a new session id
//! otc-server token --session-id S [--role R] [--data D] [--expire SECONDS] [--legacy]
//! otc-server rest-token [--api-key K] [--expire SECONDS]  print a REST API (project) JWT
//! ```
//!
//! The options of [`CommonArgs`] (`--config`, `--api-key`, ...) go before
//! or after the subcommand; `serve`'s own go after `serve` (or with no
//! subcommand at all).
//!
//! Every setting has one name: the flag `--signal-burst`, the environment
//! variable `OTC_SIGNAL_BURST` and the config file key `signal_burst` (in
//! `[limits]`). Projects come from `--api-key`/`--api-secret` (`OTC_API_KEY`,
//! `OTC_API_SECRET`) and/or `--config FILE` (`OTC_CONFIG`); with none, the
//! insecure development project ([`crate::DEV_API_KEY`]) is used. Flags and
//! environment variables win over the config file, which wins over built-in
//! defaults.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::auth::session_id::api_key_of;
use crate::auth::{create_session_id, mint_token, Role, TokenOptions};
use crate::config::{
    resolve_listen, ApplicationEntry, Config, ConfigError, FileConfig, LimitOverrides, Project,
    ServerLimits,
};

/// Self-hosted signaling server for Vonage Video (OpenTok) apps.
#[derive(Debug, Parser)]
#[command(name = "otc-server", version)]
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
    /// TOML config file: `listen`, `log_level`, `[[projects]]`, `[limits]`
    /// (every key: otc-server.example.toml).
    #[arg(long, env = "OTC_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// API key of the project (with --api-secret: adds that project; alone:
    /// picks one of the configured projects).
    #[arg(long, env = "OTC_API_KEY", global = true)]
    pub api_key: Option<String>,
    /// API secret of the project named by --api-key.
    #[arg(long, env = "OTC_API_SECRET", global = true, hide_env_values = true)]
    pub api_secret: Option<String>,
    /// Id of a Vonage application (with --public-key-file or --public-key:
    /// adds that application; alone: picks one of the configured ones).
    #[arg(long, env = "OTC_APPLICATION_ID", global = true)]
    pub application_id: Option<String>,
    /// File holding the PEM RSA public key of the application named by
    /// --application-id.
    #[arg(long, env = "OTC_PUBLIC_KEY_FILE", global = true, value_name = "PATH")]
    pub public_key_file: Option<PathBuf>,
    /// The PEM RSA public key of the application named by --application-id
    /// itself, instead of --public-key-file.
    #[arg(long, env = "OTC_PUBLIC_KEY", global = true, value_name = "PEM")]
    pub public_key: Option<String>,
    /// Log level or filter (error, warn, info, debug, trace, or a
    /// RUST_LOG-style filter). Default: the config file's log_level (for
    /// serve), else RUST_LOG, else info (serve) or warn (the other commands).
    #[arg(long, env = "OTC_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
    /// Log line format: text, or json (one JSON object per line). Default:
    /// the config file's log_format (for serve), else text.
    #[arg(long, env = "OTC_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<crate::logging::LogFormat>,
    /// Where `api_key` and `api_secret` came from (filled in by
    /// [`parse_from`]).
    #[arg(skip)]
    pub sources: CredentialSources,
}

/// Where the project credentials came from, which decides which project a
/// secret belongs to (see [`resolve`]). [`parse_from`] fills it in; the
/// default (both from the command line, no `OTC_API_KEY`) is what code that
/// builds a [`CommonArgs`] by hand means.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// `api_key` is the value of `OTC_API_KEY`, not of `--api-key`.
    pub key_from_env: bool,
    /// `api_secret` is the value of `OTC_API_SECRET`, not of `--api-secret`.
    pub secret_from_env: bool,
    /// `OTC_API_KEY` as the environment has it, also when `--api-key`
    /// overrides it.
    pub env_api_key: Option<String>,
}

// Parsed once at start-up; the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Load and check the configuration (config file, environment, flags)
    /// exactly as `serve` does, print what the server would run with, and
    /// exit with status 0 if it is valid, else 1.
    CheckConfig(ServeArgs),
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
    /// Address to listen on for WebSocket and HTTP: IP:PORT or HOST:PORT (a
    /// host name is resolved at start-up).
    #[arg(long, env = "OTC_LISTEN")]
    pub listen: Option<String>,
    /// Serve /metrics, /healthz and /readyz on this address (plain HTTP)
    /// instead of on the main listener.
    #[arg(long, env = "OTC_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Cluster mode: share sessions with the other nodes using this Redis
    /// (redis://host:port, or redis://user:password@host:port/db; rediss:// for TLS).
    #[arg(long, env = "OTC_REDIS", value_name = "URL")]
    pub redis: Option<String>,
    /// This node's name in the cluster (unique among live nodes; random
    /// when not given). Only with --redis.
    #[arg(long, env = "OTC_NODE_ID", value_name = "NAME")]
    pub node_id: Option<String>,
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
    /// Serve the developer's console (a web page to join a session with a
    /// token, and send and watch signals) at /console/. Off by default:
    /// then /console/ is 404.
    #[arg(long, env = "OTC_CONSOLE", value_parser = clap::builder::BoolishValueParser::new())]
    pub console: bool,
    /// Session monitoring: POST the connection events of the --api-key
    /// project (the only or first one when not given) to this URL, signed
    /// with its API secret (or --callback-secret).
    #[arg(long, env = "OTC_CALLBACK_URL", value_name = "URL")]
    pub callback_url: Option<String>,
    /// Key of the JWT that signs the --callback-url callbacks (default: the
    /// project's API secret).
    #[arg(long, env = "OTC_CALLBACK_SECRET", hide_env_values = true)]
    pub callback_secret: Option<String>,
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
    /// `--log-level` (`OTC_LOG_LEVEL`), else the file's `log_level`; `None`
    /// leaves it to `RUST_LOG` and the command's default.
    pub log_level: Option<String>,
    /// `--log-format` (`OTC_LOG_FORMAT`), else the file's `log_format`,
    /// else text.
    pub log_format: crate::logging::LogFormat,
    /// The listen address as given, before a host name in it was resolved.
    pub listen_as_given: String,
    /// The config file read, if any.
    pub config_file: Option<PathBuf>,
}

/// The command line with the built-in defaults shown in `--help`.
pub fn command() -> clap::Command {
    let mut defaults = LimitOverrides::from_limits(&ServerLimits::default()).entries();
    defaults.push((
        "listen".into(),
        protocol::limits::DEFAULT_LISTEN_ADDR.into(),
    ));
    let with_default = |a: Arg| {
        let Some((_, value)) = defaults.iter().find(|(id, _)| a.get_id() == id.as_str()) else {
            return a;
        };
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        a.help(format!("{help} [default: {value}]"))
    };
    Cli::command()
        .mut_args(with_default)
        .mut_subcommands(|sub| sub.mut_args(with_default))
}

/// Parses the process's command line; see [`parse_from`].
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// Parses a command line: [`command`], then two checks clap cannot make
/// with options both global and flattened. `serve`'s options given before a
/// subcommand are refused (they would be ignored), and the sources of the
/// credentials are noted in [`CommonArgs::sources`].
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args)?;
    if let Some((name, _)) = matches.subcommand() {
        let serve_only = ServeArgs::augment_args(clap::Command::new("serve"));
        for arg in serve_only.get_arguments() {
            if matches.value_source(arg.get_id().as_str()) != Some(ValueSource::CommandLine) {
                continue;
            }
            let flag = arg.get_long().unwrap_or_default();
            let hint = if matches!(name, "serve" | "check-config") {
                format!("write it after the subcommand: otc-server {name} --{flag} ...")
            } else {
                format!("`{name}` does not use it")
            };
            return Err(cmd.error(
                ErrorKind::ArgumentConflict,
                format!("--{flag} is an option of `serve` and `check-config`; {hint}"),
            ));
        }
    }
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.common.sources = CredentialSources {
        key_from_env: source_of(&matches, "api_key") == Some(ValueSource::EnvVariable),
        secret_from_env: source_of(&matches, "api_secret") == Some(ValueSource::EnvVariable),
        env_api_key: std::env::var("OTC_API_KEY").ok().filter(|k| !k.is_empty()),
    };
    Ok(cli)
}

/// Where a global option's value came from, looked up where it was given
/// (before or after the subcommand).
fn source_of(matches: &ArgMatches, id: &str) -> Option<ValueSource> {
    match matches.subcommand() {
        Some((_, sub)) => sub.value_source(id).or_else(|| matches.value_source(id)),
        None => matches.value_source(id),
    }
}

/// Builds the server configuration: built-in defaults, then the config file,
/// then environment variables and flags.
pub fn resolve(common: &CommonArgs, serve: &ServeArgs) -> Result<Resolved, CliError> {
    let file = match &common.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let mut limits = ServerLimits::default();
    file.limits.apply(&mut limits);
    serve.limits.apply(&mut limits);
    let listen_as_given = serve
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| protocol::limits::DEFAULT_LISTEN_ADDR.to_string());
    let listen = resolve_listen(&listen_as_given)?;
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
    let console = serve.console || file.console.unwrap_or(false);
    let mut projects = file.projects;
    for app in &file.applications {
        projects.push(app.load()?);
    }
    add_credentials(&mut projects, common)?;
    add_application(&mut projects, common)?;
    let using_dev_project = projects.is_empty();
    if using_dev_project {
        projects.push(Project::dev());
    }
    let cluster = match (
        serve.redis.clone().or(file.redis),
        serve.node_id.clone().or(file.node_id),
    ) {
        (Some(redis_url), node_id) => Some(crate::cluster::ClusterConfig { redis_url, node_id }),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "--node-id needs --redis (OTC_REDIS, redis in the config file): a node id names this node in a cluster".into(),
            ))
        }
    };
    let mut callbacks = file.callbacks;
    match (&serve.callback_url, &serve.callback_secret) {
        (Some(url), secret) => {
            let key = match &common.api_key {
                Some(k) => k.clone(),
                None => projects.first().map(|p| p.api_key.clone()).unwrap_or_default(),
            };
            callbacks.retain(|c| c.api_key != key);
            callbacks.push(crate::config::Callback {
                api_key: key,
                url: url.clone(),
                secret: secret.clone(),
            });
        }
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "--callback-secret needs --callback-url (OTC_CALLBACK_URL): it signs the callbacks sent there".into(),
            ))
        }
        (None, None) => {}
    }
    let config = Config {
        listen,
        cluster,
        metrics_listen: serve.metrics_listen.or(file.metrics_listen),
        projects,
        limits,
        tls,
        allow_dev_project,
        console,
        callbacks,
    };
    config.validate()?;
    Ok(Resolved {
        config,
        using_dev_project,
        log_level: common.log_level.clone().or(file.log_level),
        log_format: common.log_format.or(file.log_format).unwrap_or_default(),
        listen_as_given,
        config_file: common.config.clone(),
    })
}

/// Adds the project of `--api-key`/`--api-secret` (or `OTC_API_KEY` /
/// `OTC_API_SECRET`) to those of the file, or checks that a key given alone
/// names a configured project.
///
/// A secret belongs to the key given the same way: two flags are one
/// project, and so are the two variables (whether or not `--api-key` then
/// picks another project). `OTC_API_SECRET` with no `OTC_API_KEY` is the
/// secret of `--api-key`, unless that key is a project of the config file
/// with another secret: then which secret was meant cannot be told, and the
/// command is refused rather than minting with the wrong one.
fn add_credentials(projects: &mut Vec<Project>, common: &CommonArgs) -> Result<(), CliError> {
    fn put(projects: &mut Vec<Project>, key: &str, secret: &str) {
        projects.retain(|p| p.api_key != key);
        projects.push(Project::new(key, secret));
    }
    let configured = |projects: &[Project], key: &str| projects.iter().any(|p| p.api_key == key);
    let src = &common.sources;
    match (&common.api_key, &common.api_secret) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(CliError::Usage(
                "--api-secret (OTC_API_SECRET) needs --api-key (OTC_API_KEY)".into(),
            ))
        }
        (Some(key), None) => {
            if !configured(projects, key) {
                return Err(CliError::Usage(format!(
                    "--api-key {key} is not a configured project; give --api-secret too"
                )));
            }
        }
        (Some(key), Some(secret)) if src.secret_from_env && !src.key_from_env => {
            match &src.env_api_key {
                Some(env_key) => {
                    put(projects, env_key, secret);
                    if !configured(projects, key) {
                        return Err(CliError::Usage(format!(
                            "--api-key {key} is not a configured project (OTC_API_SECRET is \
                             the secret of OTC_API_KEY={env_key}); give --api-secret too"
                        )));
                    }
                }
                None => match projects.iter().find(|p| &p.api_key == key) {
                    Some(p) if p.secret() != Some(secret.as_str()) => {
                        return Err(CliError::Usage(format!(
                            "--api-key {key} is a project of the config file, which has its own \
                             secret, and OTC_API_SECRET is set to another one: unset \
                             OTC_API_SECRET to use the file's secret, or give --api-secret to \
                             replace it"
                        )));
                    }
                    Some(_) => {}
                    None => put(projects, key, secret),
                },
            }
        }
        (Some(key), Some(secret)) => put(projects, key, secret),
    }
    Ok(())
}

/// Adds the application of `--application-id` with `--public-key-file` or
/// `--public-key` (`OTC_APPLICATION_ID`, `OTC_PUBLIC_KEY_FILE`,
/// `OTC_PUBLIC_KEY`) to the configured ones, replacing one of the same id,
/// or checks that an id given alone names a configured application.
fn add_application(projects: &mut Vec<Project>, common: &CommonArgs) -> Result<(), CliError> {
    let (id, pem, file) = (
        &common.application_id,
        &common.public_key,
        &common.public_key_file,
    );
    match (id, pem.is_some() || file.is_some()) {
        (None, false) => Ok(()),
        (None, true) => Err(CliError::Usage(
            "--public-key-file / --public-key (OTC_PUBLIC_KEY_FILE, OTC_PUBLIC_KEY) need \
             --application-id (OTC_APPLICATION_ID)"
                .into(),
        )),
        (Some(id), false) => {
            if projects
                .iter()
                .any(|p| p.api_key == *id && p.application_key().is_some())
            {
                Ok(())
            } else {
                Err(CliError::Usage(format!(
                    "--application-id {id} is not a configured application; give \
                     --public-key-file too"
                )))
            }
        }
        (Some(id), true) => {
            if pem.is_some() && file.is_some() {
                return Err(CliError::Usage(
                    "give the application's public key once: --public-key-file or --public-key"
                        .into(),
                ));
            }
            let app = ApplicationEntry {
                application_id: id.clone(),
                public_key: pem.clone(),
                public_key_file: file.clone(),
            }
            .load()?;
            projects.retain(|p| p.api_key != *id);
            projects.push(app);
            Ok(())
        }
    }
}

/// `check-config`: the summary of a configuration that [`resolve`] accepted,
/// one setting a line, by config key; `(default)` marks built-in values.
pub fn check_config_summary(r: &Resolved) -> String {
    let mut out = String::new();
    let file = r
        .config_file
        .as_deref()
        .map_or_else(|| "none".to_string(), |p| p.display().to_string());
    let _ = writeln!(out, "config file: {file}");
    let listen = if r.listen_as_given == r.config.listen.to_string() {
        r.listen_as_given.clone()
    } else {
        format!("{} ({})", r.listen_as_given, r.config.listen)
    };
    let default = |is: bool| if is { " (default)" } else { "" };
    let _ = writeln!(
        out,
        "listen = {listen}{}",
        default(r.listen_as_given == protocol::limits::DEFAULT_LISTEN_ADDR)
    );
    match &r.log_level {
        Some(l) => {
            let _ = writeln!(out, "log_level = {l}");
        }
        None => {
            let _ = writeln!(out, "log_level = RUST_LOG, else info (default)");
        }
    }
    if r.using_dev_project {
        let _ = writeln!(
            out,
            "projects: {} (the built-in development project: its secret is public, for local use only)",
            crate::DEV_API_KEY
        );
    } else {
        let keys: Vec<&str> = r
            .config
            .projects
            .iter()
            .filter(|p| p.secret().is_some())
            .map(|p| p.api_key.as_str())
            .collect();
        if !keys.is_empty() {
            let _ = writeln!(out, "projects: {} (secrets not shown)", keys.join(", "));
        }
        let apps: Vec<String> = r
            .config
            .projects
            .iter()
            .filter_map(|p| Some(format!("{} ({:?})", p.api_key, p.application_key()?)))
            .collect();
        if !apps.is_empty() {
            let _ = writeln!(out, "applications: {}", apps.join(", "));
        }
    }
    match &r.config.cluster {
        None => {
            let _ = writeln!(out, "redis = none: one node alone (default)");
        }
        Some(c) => {
            let _ = writeln!(
                out,
                "redis = {} (cluster mode)",
                crate::cluster::redacted(&c.redis_url)
            );
            let _ = writeln!(
                out,
                "node_id = {}",
                c.node_id
                    .as_deref()
                    .unwrap_or("random at start-up (default)")
            );
        }
    }
    if r.config.console {
        let _ = writeln!(out, "console = true: the developer's console at /console/");
    } else {
        let _ = writeln!(out, "console = false: /console/ is 404 (default)");
    }
    let _ = writeln!(out, "[limits]");
    let defaults = LimitOverrides::from_limits(&ServerLimits::default()).entries();
    for (key, value) in LimitOverrides::from_limits(&r.config.limits).entries() {
        let is_default = defaults.iter().any(|(k, v)| *k == key && *v == value);
        let _ = writeln!(out, "{key} = {value}{}", default(is_default));
    }
    out
}

/// The `OTC_*` variables set in the environment that no option of
/// `otc-server` reads, sorted: a misspelt or retired name (such as
/// `OTC_SIGNAL_RATE`, now `OTC_SIGNAL_RATE_PER_SEC`) is otherwise ignored
/// in silence. (Clients read some `OTC_*` variables of their own, such as
/// `OTC_SERVER_URL`, so these are not errors.)
pub fn unread_env_vars() -> Vec<String> {
    let mut cmd = command();
    cmd.build();
    let mut known: Vec<String> = Vec::new();
    let mut add = |c: &clap::Command| {
        known.extend(
            c.get_arguments()
                .filter_map(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned()),
        );
    };
    add(&cmd);
    for sub in cmd.get_subcommands() {
        add(sub);
    }
    let mut unread: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("OTC_") && !known.contains(k))
        .collect();
    unread.sort();
    unread
}

/// `create-session`: a new session id for the project named by `--api-key`
/// (or the only/first configured one).
pub fn create_session(common: &CommonArgs) -> Result<String, CliError> {
    let r = resolve(common, &ServeArgs::default())?;
    let project = match common.api_key.as_ref().or(common.application_id.as_ref()) {
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
    let project = match common.api_key.as_ref().or(common.application_id.as_ref()) {
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
        let cli = parse_from([
            "otc-server",
            "--api-key",
            "777",
            "--api-secret",
            "sss-0123456789abcdef0123456789abcdef",
            "--listen",
            "127.0.0.1:9999",
            "--signal-rate-per-sec",
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

        let sub = parse_from(["otc-server", "token", "--session-id", "x", "--role", "boss"]);
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
    fn a_callback_url_goes_to_the_project_of_api_key_and_is_checked() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["otc-server"], args].concat()).expect("parse");
            resolve(&cli.common, &cli.serve)
        };
        let secret = "a-project-secret-of-32-bytes-or-more";
        let r = parse(&[
            "--api-key",
            "777",
            "--api-secret",
            secret,
            "--callback-url",
            "https://app.example.com/cb",
        ])
        .expect("resolves");
        assert_eq!(r.config.callbacks.len(), 1);
        assert_eq!(r.config.callbacks[0].api_key, "777");
        assert_eq!(r.config.callbacks[0].url, "https://app.example.com/cb");
        assert_eq!(r.config.callbacks[0].secret, None);
        // With no project given, the development project's.
        let r = parse(&["--callback-url", "http://127.0.0.1:9/cb"]).expect("dev project");
        assert_eq!(r.config.callbacks[0].api_key, crate::config::DEV_API_KEY);
        for bad in ["ftp://x/cb", "not a url", "http://", "mailto:a@b.c"] {
            let e = parse(&["--callback-url", bad]).expect_err(bad);
            assert!(e.to_string().contains("callback URL"), "{bad}: {e}");
        }
        let e = parse(&[
            "--callback-url",
            "http://127.0.0.1:9/",
            "--callback-secret",
            "short",
        ])
        .expect_err("short secret");
        assert!(e.to_string().contains("at least 32"), "{e}");
        assert!(
            parse(&["--callback-secret", secret]).is_err(),
            "a secret without a URL"
        );
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
        assert!(parse(&["--console"]).expect("console").config.console);
        assert!(!parse(&[]).expect("none").config.console);
    }

    fn project(key: &str, secret: &str) -> Project {
        Project::new(key, secret)
    }

    fn common(key: Option<&str>, secret: Option<&str>, sources: CredentialSources) -> CommonArgs {
        CommonArgs {
            api_key: key.map(Into::into),
            api_secret: secret.map(Into::into),
            sources,
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_belongs_to_the_key_given_the_same_way() {
        let file = vec![
            project("111", "file-secret"),
            project("222", "other-secret"),
        ];
        let run = |c: &CommonArgs| {
            let mut p = file.clone();
            add_credentials(&mut p, c).map(|()| p)
        };
        // Two flags: one project, replacing the file's.
        let p = run(&common(
            Some("111"),
            Some("s"),
            CredentialSources::default(),
        ))
        .expect("flags");
        assert!(p.contains(&project("111", "s")) && p.len() == 2);
        // OTC_API_KEY + OTC_API_SECRET, and --api-key picking a file project:
        // the pair is added, the file project keeps its secret.
        let env_pair = CredentialSources {
            key_from_env: false,
            secret_from_env: true,
            env_api_key: Some("333".into()),
        };
        let p = run(&common(Some("222"), Some("env-secret"), env_pair)).expect("env pair");
        assert!(p.contains(&project("222", "other-secret")), "{p:?}");
        assert!(p.contains(&project("333", "env-secret")), "{p:?}");
        // OTC_API_SECRET alone with --api-key of a file project whose secret
        // differs: refused, naming the way out.
        let secret_only = CredentialSources {
            key_from_env: false,
            secret_from_env: true,
            env_api_key: None,
        };
        let e = run(&common(
            Some("222"),
            Some("env-secret"),
            secret_only.clone(),
        ))
        .expect_err("ambiguous secret");
        assert!(e.to_string().contains("unset OTC_API_SECRET"), "{e}");
        // ... the same secret is no conflict; a new key takes it.
        let p = run(&common(
            Some("222"),
            Some("other-secret"),
            secret_only.clone(),
        ))
        .expect("same");
        assert_eq!(p, file);
        let p = run(&common(Some("444"), Some("env-secret"), secret_only)).expect("new key");
        assert!(p.contains(&project("444", "env-secret")));
        // A key alone must be configured; a secret alone is refused.
        assert!(run(&common(Some("111"), None, CredentialSources::default())).is_ok());
        assert!(run(&common(Some("999"), None, CredentialSources::default())).is_err());
        assert!(run(&common(None, Some("s"), CredentialSources::default())).is_err());
    }

    #[test]
    fn common_options_go_before_or_after_the_subcommand() {
        for args in [
            &["otc-server", "--config", "f.toml", "create-session"][..],
            &["otc-server", "create-session", "--config", "f.toml"][..],
            &[
                "otc-server",
                "--log-level",
                "warn",
                "check-config",
                "--config",
                "f.toml",
            ][..],
        ] {
            let cli = parse_from(args).expect("parses");
            assert_eq!(
                cli.common.config.as_deref(),
                Some(std::path::Path::new("f.toml"))
            );
        }
        // serve's options before a subcommand would be ignored: refused.
        let e = parse_from(["otc-server", "--listen", "127.0.0.1:1", "serve"]).expect_err("before");
        assert!(e.to_string().contains("otc-server serve --listen"), "{e}");
        let e = parse_from([
            "otc-server",
            "--signal-burst",
            "3",
            "token",
            "--session-id",
            "x",
        ])
        .expect_err("not token's");
        assert!(e.to_string().contains("`token` does not use it"), "{e}");
        assert!(parse_from(["otc-server", "serve", "--listen", "localhost:0"]).is_ok());
    }

    #[test]
    fn help_shows_the_defaults() {
        let mut cmd = command();
        let serve = cmd.find_subcommand_mut("serve").expect("serve");
        let help = serve.render_help().to_string();
        assert!(help.contains("[default: 127.0.0.1:4443]"), "{help}");
        assert!(help.contains("[default: 5000]"), "{help}");
        assert!(help.contains("[default: 16777216]"), "{help}");
        let top = command().render_help().to_string();
        assert!(top.contains("[default: 10000]"), "{top}");
    }

    #[test]
    fn an_application_from_the_command_line() {
        use crate::auth::test_keys::{APP_ID, A_PUBLIC};
        let dir = std::env::temp_dir().join(format!("otc-cli-app-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("app.pub.pem");
        std::fs::write(&file, A_PUBLIC).expect("write");
        let path = file.to_str().expect("utf-8 path").to_string();
        let cli = parse_from([
            "otc-server",
            "--application-id",
            APP_ID,
            "--public-key-file",
            &path,
        ])
        .expect("parse");
        let r = resolve(&cli.common, &cli.serve).expect("resolve");
        assert!(
            !r.using_dev_project,
            "an application is a project of our own"
        );
        let app = r.config.project(APP_ID).expect("configured");
        assert!(app.application_key().is_some() && app.secret().is_none());
        let summary = check_config_summary(&r);
        assert!(
            summary.contains(&format!("applications: {APP_ID} (RSA-2048 sha256:")),
            "{summary}"
        );
        assert!(!summary.contains("projects:"), "{summary}");

        // It can have session ids; its tokens need its private key.
        let sid = create_session(&cli.common).expect("session");
        assert_eq!(api_key_of(&sid).as_deref(), Ok(APP_ID));
        let args = TokenArgs {
            session_id: sid,
            role: Role::Publisher,
            data: None,
            expire: 60,
            legacy: false,
        };
        let e = token(&cli.common, &args).expect_err("no private key");
        assert!(e.to_string().contains("Vonage application"), "{e}");
        assert!(rest_token(&cli.common, &RestTokenArgs { expire: 60 }).is_err());

        // The PEM itself, escaped as an environment variable would hold it.
        let inline = CommonArgs {
            application_id: Some(APP_ID.into()),
            public_key: Some(A_PUBLIC.trim().replace('\n', "\\n")),
            ..Default::default()
        };
        let r = resolve(&inline, &ServeArgs::default()).expect("inline PEM");
        assert_eq!(
            r.config.project(APP_ID).and_then(Project::application_key),
            app.application_key()
        );
        // An id alone must be configured, a key alone has no id, two keys
        // are one too many.
        for (common, why) in [
            (
                CommonArgs {
                    application_id: Some(APP_ID.into()),
                    ..Default::default()
                },
                "not a configured application",
            ),
            (
                CommonArgs {
                    public_key: Some(A_PUBLIC.into()),
                    ..Default::default()
                },
                "need --application-id",
            ),
            (
                CommonArgs {
                    public_key_file: Some(file.clone()),
                    ..inline.clone()
                },
                "once",
            ),
        ] {
            let e = resolve(&common, &ServeArgs::default()).expect_err(why);
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
