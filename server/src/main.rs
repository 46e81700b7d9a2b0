//! The `otc-server` binary: parses the command line, sets up logging and
//! runs the chosen subcommand. Serving ends gracefully on SIGINT or SIGTERM;
//! SIGHUP reloads the TLS certificate and key.

use std::process::ExitCode;

use otc_server::cli::{self, Command};

/// Sets up logging (`server/src/logging.rs`); an invalid filter is an error.
fn init_logging(common: &cli::CommonArgs, default: &str) -> Result<(), cli::CliError> {
    otc_server::logging::init(
        common.log_level.as_deref(),
        common.log_format.unwrap_or_default(),
        default,
    )
    .map_err(cli::CliError::Usage)
}

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // check-config promises 0 or 1; clap's usage errors are 2.
            let checking = std::env::args_os().any(|a| a == "check-config");
            return match e.exit_code() {
                0 => ExitCode::SUCCESS,
                _ if checking => ExitCode::FAILURE,
                code => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            };
        }
    };
    let result = match &cli.command {
        Some(Command::CreateSession) => init_logging(&cli.common, "warn")
            .and_then(|()| cli::create_session(&cli.common))
            .map(|s| println!("{s}")),
        Some(Command::Token(args)) => init_logging(&cli.common, "warn")
            .and_then(|()| cli::token(&cli.common, args))
            .map(|t| println!("{t}")),
        Some(Command::RestToken(args)) => init_logging(&cli.common, "warn")
            .and_then(|()| cli::rest_token(&cli.common, args))
            .map(|t| println!("{t}")),
        Some(Command::CheckConfig(args)) => cli::resolve(&cli.common, args).map(|r| {
            print!("{}", cli::check_config_summary(&r));
            for name in cli::unread_env_vars() {
                eprintln!(
                    "otc-server: note: {name} is set but is not an otc-server setting (ignored)"
                );
            }
            println!("otc-server: the configuration is valid");
        }),
        Some(Command::Serve(args)) => serve(&cli.common, args),
        None => serve(&cli.common, &cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("otc-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(common: &cli::CommonArgs, args: &cli::ServeArgs) -> Result<(), cli::CliError> {
    let resolved = cli::resolve(common, args)?;
    // The config file's log_level applies too (the flag and environment
    // win), so logging starts once the configuration is read.
    otc_server::logging::init(resolved.log_level.as_deref(), resolved.log_format, "info")
        .map_err(cli::CliError::Usage)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| cli::CliError::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        // (When it would be exposed, `start` refuses it with the reason.)
        if resolved.using_dev_project && !resolved.config.dev_project_exposed() {
            tracing::warn!(
                "no project configured: using the INSECURE development project, API key {} (secret in the README); local use only",
                otc_server::DEV_API_KEY
            );
            println!("otc-server: development project API key {}", otc_server::DEV_API_KEY);
        }
        let stop = shutdown_signal();
        let mut hangups = Hangups::watch();
        let handle = otc_server::start(resolved.config)
            .await
            .map_err(|e| cli::CliError::Usage(e.to_string()))?;
        println!("otc-server: listening on {} (WebSocket path {})", handle.base_url(), protocol::WS_PATH);
        if handle.config().console {
            println!(
                "otc-server: developer's console at {}{}",
                handle.base_url(),
                otc_server::console::CONSOLE_PATH
            );
        }
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = hangups.next() => {
                    if handle.reload_tls().is_none() {
                        tracing::info!("SIGHUP received; no TLS certificate configured, nothing to reload");
                    }
                }
            }
        }
        handle.shutdown().await;
        Ok(())
    })
}

/// SIGHUP, watched from the moment [`Hangups::watch`] is called (before the
/// "listening" line, so a reload asked for right after it is not the
/// default action, which ends the process).
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn watch() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signal = signal(SignalKind::hangup())
                .map_err(|e| tracing::warn!("cannot watch SIGHUP ({e}); no certificate reloads"))
                .ok();
            Hangups { signal }
        }
        #[cfg(not(unix))]
        {
            Hangups {}
        }
    }

    /// The next SIGHUP; never, if they cannot be watched.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.signal {
            if s.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await
    }
}

/// Watches SIGINT (Ctrl-C) and SIGTERM from the moment it is called (the
/// handlers are installed before it returns, so a signal sent right after
/// the "listening" line still shuts down gracefully); the returned future
/// resolves on the first of them.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = int.recv() => tracing::info!("SIGINT received"),
                        _ = term.recv() => tracing::info!("SIGTERM received"),
                    }
                }
                (term, int) => {
                    tracing::warn!(
                        "cannot watch signals (SIGTERM: {:?}, SIGINT: {:?}); Ctrl-C only",
                        term.err(),
                        int.err()
                    );
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
