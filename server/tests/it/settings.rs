//! One name per setting: every flag of `serve` has the environment variable
//! and config file key of the same name, a row in server/README.md's table
//! and a line in `otc-server.example.toml`; that file is the defaults and
//! passes `check-config`; bad files fail it with a clear message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use otc_server::cli::{self, CommonArgs, ServeArgs};
use otc_server::config::{FileConfig, LimitOverrides};
use otc_server::ServerLimits;

const BIN: &str = env!("CARGO_BIN_EXE_otc-server");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits in the repository")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    let path = repo_root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example with its commented-out settings switched on: lines that are
/// `# key = value` or `# [table]` / `# [[table]]` lose their `# `.
fn uncommented(example: &str) -> String {
    example
        .lines()
        .map(|line| {
            let Some(rest) = line.strip_prefix("# ") else {
                return line.to_string();
            };
            let key = rest.split(" = ").next().unwrap_or("");
            let is_setting = rest.contains(" = ")
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            let is_table = rest.starts_with('[') && rest.trim_end().ends_with(']');
            if is_setting || is_table {
                rest.to_string()
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `table.key` (or `key` at the top) a TOML text sets; arrays of
/// tables count once.
fn keys(text: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(text).expect("the example is TOML");
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) => out.extend(t.keys().map(|sub| format!("{k}.{sub}"))),
            toml::Value::Array(a) => {
                for item in a.iter().filter_map(|i| i.as_table()) {
                    out.extend(item.keys().map(|sub| format!("{k}.{sub}")));
                }
            }
            _ => out.push(k),
        }
    }
    out.sort();
    out.dedup();
    out
}

/// (long flag, environment variable) of every option of `serve`, the
/// global ones included.
fn serve_flags() -> Vec<(String, Option<String>)> {
    let mut cmd = cli::command();
    cmd.build();
    let serve = cmd.find_subcommand("serve").expect("serve").clone();
    serve
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            if matches!(long, "help" | "version") {
                return None;
            }
            let env = a.get_env().map(|e| e.to_string_lossy().into_owned());
            Some((long.to_string(), env))
        })
        .collect()
}

/// The config key a flag is read from: its name with underscores, in the
/// table the example puts it in. `--config` has none (it names the file);
/// the credentials are the keys of a `[[projects]]` entry, the callback
/// settings those of a `[[callbacks]]` entry.
fn key_of(flag: &str, example_keys: &[String]) -> Option<String> {
    if flag == "config" {
        return None;
    }
    let name = flag.replace('-', "_");
    if let Some(k) = name.strip_prefix("callback_") {
        return Some(format!("callbacks.{k}"));
    }
    if let Some(k) = name.strip_prefix("api_") {
        return Some(format!("projects.api_{k}"));
    }
    let found: Vec<&String> = example_keys
        .iter()
        .filter(|k| k.rsplit('.').next() == Some(name.as_str()))
        .collect();
    assert!(
        found.len() <= 1,
        "--{flag}: the example sets {found:?}, one key expected"
    );
    Some(found.first().map_or(name, |k| (*k).clone()))
}

#[test]
fn every_setting_has_one_name_everywhere() {
    let example = read("otc-server.example.toml");
    let example_keys = keys(&uncommented(&example));
    let readme = read("server/README.md");
    let rows: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `--")).collect();
    let flags = serve_flags();
    assert!(flags.len() >= 20, "{flags:?}");
    let limit_defaults = LimitOverrides::from_limits(&ServerLimits::default()).entries();
    let mut covered = Vec::new();
    for (flag, env) in &flags {
        let want_env = format!("OTC_{}", flag.replace('-', "_").to_ascii_uppercase());
        assert_eq!(
            env.as_deref(),
            Some(want_env.as_str()),
            "--{flag} must be read from {want_env}"
        );
        let row = rows
            .iter()
            .find(|r| {
                r.starts_with(&format!("| `--{flag} ")) || r.starts_with(&format!("| `--{flag}`"))
            })
            .unwrap_or_else(|| panic!("server/README.md's table has no row for --{flag}"));
        assert!(
            row.contains(&format!("`{want_env}`")),
            "row of --{flag}: {row}"
        );
        let Some(key) = key_of(flag, &example_keys) else {
            continue;
        };
        assert!(
            example_keys.contains(&key),
            "otc-server.example.toml has no `{key}` (for --{flag}); it lists {example_keys:?}"
        );
        let (table, name) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
        assert!(row.contains(&format!("`{name}`")), "row of --{flag}: {row}");
        if !table.is_empty() {
            assert!(
                row.contains(table),
                "row of --{flag} names `{table}`: {row}"
            );
        }
        if let Some((_, value)) = limit_defaults.iter().find(|(k, _)| *k == name) {
            let default_column = row.split(" | ").nth(3).unwrap_or("");
            assert!(
                default_column.starts_with(value.as_str()),
                "row of --{flag}: the default is {value}: {row}"
            );
        }
        covered.push(key);
    }
    // `--api-key` also names the project of `--callback-url`.
    covered.push("callbacks.api_key".to_string());
    // ... and nothing in the example that no flag sets.
    for key in &example_keys {
        assert!(covered.contains(key), "`{key}` of the example has no flag");
    }
    // One row per flag, no more.
    assert_eq!(rows.len(), flags.len(), "README rows: {rows:#?}");
}

#[test]
fn the_example_is_the_defaults_and_passes_check_config() {
    let path = repo_root().join("otc-server.example.toml");
    let common = CommonArgs {
        config: Some(path.clone()),
        ..Default::default()
    };
    let r = cli::resolve(&common, &ServeArgs::default()).expect("the example resolves");
    let defaults = cli::resolve(&CommonArgs::default(), &ServeArgs::default()).expect("defaults");
    assert_eq!(r.config.limits, ServerLimits::default());
    assert_eq!(r.config.listen, defaults.config.listen);
    assert_eq!(r.config.projects, defaults.config.projects);
    assert!(r.using_dev_project);
    assert_eq!(r.log_level, None, "log_level is left to RUST_LOG");

    // Every key of the example written out (the projects block and
    // log_level switched on) is valid too.
    let on = uncommented(&read("otc-server.example.toml"));
    let f = FileConfig::parse(&on).expect("uncommented example parses");
    assert_eq!(f.projects.len(), 1);
    assert_eq!(f.log_level.as_deref(), Some("info"));

    let out = check_config(&["--config", path.to_str().expect("utf-8 path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("signal_burst = 10000 (default)"),
        "{stdout}"
    );
    assert!(stdout.contains("configuration is valid"), "{stdout}");
}

fn check_config(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("check-config")
        .args(args)
        .env_remove("OTC_CONFIG")
        .env_remove("OTC_API_KEY")
        .env_remove("OTC_API_SECRET")
        .env_remove("OTC_LISTEN")
        .output()
        .expect("run otc-server check-config")
}

/// `check-config` on a file with this text: (exit code, stderr).
fn check_text(name: &str, text: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("otc-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    let out = check_config(&["--config", path.to_str().expect("utf-8 path")]);
    let _ = std::fs::remove_file(&path);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_names_what_is_wrong() {
    // An unknown key, at the top and in a table: the key and line named.
    let (code, err) = check_text("top.toml", "lisen = \"127.0.0.1:1\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("unknown field `lisen`") && err.contains("line 1"),
        "{err}"
    );
    let (code, err) = check_text("limits.toml", "[limits]\nsignal_rate = 5\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown field `signal_rate`"), "{err}");
    assert!(
        err.contains("signal_rate_per_sec"),
        "lists the right keys: {err}"
    );
    // A value of the wrong type.
    let (code, err) = check_text("type.toml", "[limits]\nsignal_burst = \"many\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("line 2") && err.contains("expected u32"),
        "{err}"
    );
    // A value the server cannot run with, by its key.
    let (code, err) = check_text("zero.toml", "[limits]\nping_interval_ms = 0\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("ping_interval_ms must be greater than 0"),
        "{err}"
    );
    // A listen address that does not resolve, and a project without secret.
    let (code, err) = check_text("listen.toml", "listen = \"localhost\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("HOST:PORT"), "{err}");
    let (code, err) = check_text("proj.toml", "[[projects]]\napi_key = \"k\"\n");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing field `api_secret`"), "{err}");
    // A missing file, and a bad flag value (exit 1 too, not clap's 2).
    let out = check_config(&["--config", "/nonexistent/otc.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
    let out = check_config(&["--signal-burst", "x"]);
    assert_eq!(out.status.code(), Some(1));
    // A retired or misspelt variable is named (it is not read).
    let out = Command::new(BIN)
        .arg("check-config")
        .env("OTC_SIGNAL_RATE", "5")
        .env_remove("OTC_CONFIG")
        .output()
        .expect("run");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTC_SIGNAL_RATE is set but is not an otc-server setting"),
        "{err}"
    );
    // A host name is accepted (and resolved).
    let out = check_config(&["--listen", "localhost:4500"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("listen = localhost:4500 ("));
}

/// The TOML snippets of the READMEs are valid configurations.
#[test]
fn toml_snippets_in_the_docs_pass_check_config() {
    let mut n = 0;
    for doc in ["README.md", "server/README.md"] {
        let text = read(doc);
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "```toml" {
                continue;
            }
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let (code, err) = check_text(&format!("snippet{n}.toml"), &block.join("\n"));
            assert_eq!(
                code,
                Some(0),
                "a TOML snippet of {doc}:\n{}\n{err}",
                block.join("\n")
            );
            n += 1;
        }
    }
    assert!(n >= 1, "no TOML snippet found");
}

/// `--listen` takes a host name: the server listens on its address.
#[test]
fn serve_listens_on_a_host_name() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "localhost:0", "--log-level", "warn"])
        .env_remove("OTC_CONFIG")
        .env_remove("OTC_API_KEY")
        .env_remove("OTC_API_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let listening = BufReader::new(stdout)
        .lines()
        .take(10)
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("otc-server: listening on ")
                .map(str::to_string)
        });
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    let listening = listening.expect("prints its address");
    assert!(listening.starts_with("http://127.0.0.1:"), "{listening}");
    assert!(status.success(), "{status:?}");
}
