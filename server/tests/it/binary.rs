//! The `otc-server` binary: CLI helpers and graceful exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use otc_server::{verify_token, Project};

const BIN: &str = env!("CARGO_BIN_EXE_otc-server");

/// The secret of project 42, given by flags (at least 32 bytes, as the
/// server requires).
const SECRET_42: &str = "secret-of-project-42-0123456789abcdef";

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("OTC_API_KEY")
        .env_remove("OTC_API_SECRET")
        .env_remove("OTC_CONFIG")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

#[test]
fn cli_mints_session_ids_and_tokens_the_server_accepts() {
    let sid = run(&["create-session"]);
    let p = Project::dev();
    otc_server::auth::verify_session_id(&p, &sid).expect("dev session id");
    for extra in [&[][..], &["--legacy"][..]] {
        let mut args = vec![
            "token",
            "--session-id",
            &sid,
            "--role",
            "moderator",
            "--data",
            "who=me",
        ];
        args.extend_from_slice(extra);
        let t = run(&args);
        let g = verify_token(&p, &sid, &t).expect("token verifies");
        assert_eq!(g.role, otc_server::Role::Moderator);
        assert_eq!(g.connection_data, "who=me");
    }
    // Another project, given by flags.
    let sid = run(&[
        "create-session",
        "--api-key",
        "42",
        "--api-secret",
        SECRET_42,
    ]);
    let t = run(&[
        "token",
        "--session-id",
        &sid,
        "--api-key",
        "42",
        "--api-secret",
        SECRET_42,
    ]);
    let p = Project::new("42", SECRET_42);
    verify_token(&p, &sid, &t).expect("token of flag project");
    // A session of an unconfigured project is refused with a message.
    let out = Command::new(BIN)
        .args(["token", "--session-id", &sid])
        .env_remove("OTC_API_KEY")
        .env_remove("OTC_API_SECRET")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not configured"));
}

#[test]
fn serve_exits_zero_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut listening = None;
    for _ in 0..10 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.strip_prefix("otc-server: listening on ") {
            listening = Some(rest.to_string());
            break;
        }
    }
    let listening = listening.expect("prints its address");
    assert!(listening.starts_with("http://127.0.0.1:"), "{listening}");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = child.wait().expect("wait");
    assert!(code.success(), "exit status {code:?}");
}
