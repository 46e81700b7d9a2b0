//! The `otc-server` binary: parses the command line, sets up logging and
//! runs the chosen subcommand. Serving ends gracefully on SIGINT or SIGTERM.

use std::process::ExitCode;

use otc_server::cli::{self, Command};
use tracing_subscriber::EnvFilter;

fn init_logging(level: Option<&str>, default: &str) {
    let filter = match level {
        Some(l) => EnvFilter::try_new(l),
        None => EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(default)),
    }
    .unwrap_or_else(|e| {
        eprintln!("otc-server: bad log filter ({e}); using info");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
        Some(Command::CreateSession) => {
            init_logging(cli.common.log_level.as_deref(), "warn");
            cli::create_session(&cli.common).map(|s| println!("{s}"))
        }
        Some(Command::Token(args)) => {
            init_logging(cli.common.log_level.as_deref(), "warn");
            cli::token(&cli.common, args).map(|t| println!("{t}"))
        }
        Some(Command::RestToken(args)) => {
            init_logging(cli.common.log_level.as_deref(), "warn");
            cli::rest_token(&cli.common, args).map(|t| println!("{t}"))
        }
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
    init_logging(resolved.log_level.as_deref(), "info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| cli::CliError::Usage(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        if resolved.using_dev_project {
            tracing::warn!(
                "no project configured: using the INSECURE development project, API key {} (secret in the README); local use only",
                otc_server::DEV_API_KEY
            );
            println!("otc-server: development project API key {}", otc_server::DEV_API_KEY);
        }
        let stop = shutdown_signal();
        let handle = otc_server::start(resolved.config)
            .await
            .map_err(|e| cli::CliError::Usage(e.to_string()))?;
        println!("otc-server: listening on {} (WebSocket path {})", handle.base_url(), protocol::WS_PATH);
        stop.await;
        handle.shutdown().await;
        Ok(())
    })
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
