//! The `otc-server` binary: parses the command line, sets up logging and
//! runs the chosen subcommand. Serving ends gracefully on SIGINT or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use otc_server::cli::{self, Cli, Command};

/// Sets up logging (`server/src/logging.rs`); an invalid filter is an error.
fn init_logging(common: &cli::CommonArgs, default: &str) -> Result<(), cli::CliError> {
    otc_server::logging::init(common.log_level.as_deref(), common.log_format, default)
        .map_err(cli::CliError::Usage)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    init_logging(common, "info")?;
    let resolved = cli::resolve(common, args)?;
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
