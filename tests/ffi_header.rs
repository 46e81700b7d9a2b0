//! The public header: committed copy up to date, strict C99 and C++14
//! compilation of code written against the SDK's declarations, and the
//! shared library's exported symbols and SONAME.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

include!("../build-support/per_file_headers.rs");

#[test]
fn committed_per_file_headers_are_up_to_date() {
    for name in SDK_HEADERS {
        let path = root().join(format!("include/opentok/{name}.h"));
        let committed =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            committed,
            per_file_header(name),
            "{} is stale: build outside CI and commit it",
            path.display()
        );
    }
}

#[test]
fn committed_header_is_up_to_date() {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_crate(root())
        .with_config(config)
        .generate()
        .expect("cbindgen runs");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let committed = std::fs::read(root().join("include/opentok.h")).unwrap();
    assert!(
        fresh == committed,
        "include/opentok.h is stale: build outside CI (`cargo build -p opentok`, which \
         regenerates it) and commit the result"
    );
}

/// Code in the style of the Linux SDK's samples, touching every declaration.
const USE_EVERYTHING: &str = r#"
#include <opentok.h>
#include <stdio.h>
#include <string.h>

static void on_connected(otc_session *session, void *user_data) { (void)session; (void)user_data; }
static void on_disconnected(otc_session *session, void *user_data) { (void)session; (void)user_data; }
static void on_connection_created(otc_session *session, void *user_data, const otc_connection *connection) {
  const char *id = otc_connection_get_id(connection);
  const char *data = otc_connection_get_data(connection);
  const char *sid = otc_connection_get_session_id(connection);
  int64_t created = otc_connection_get_creation_time(connection);
  otc_connection *keep = otc_connection_copy(connection);
  otc_status st = otc_connection_delete(keep);
  (void)session; (void)user_data; (void)id; (void)data; (void)sid; (void)created; (void)st;
}
static void on_connection_dropped(otc_session *session, void *user_data, const otc_connection *connection) {
  (void)session; (void)user_data; (void)connection;
}
static void on_signal_received(otc_session *session, void *user_data, const char *type,
                               const char *signal, const otc_connection *connection) {
  (void)user_data;
  if (connection != NULL) {
    otc_session_send_signal_to_connection(session, type, signal, connection);
  }
}
static void on_stream_video_type_changed(otc_session *session, void *user_data,
                                         const otc_stream *stream, enum otc_stream_video_type type) {
  (void)session; (void)user_data; (void)stream; (void)type;
}
static void on_error(otc_session *session, void *user_data, const char *error_string,
                     enum otc_session_error_code error) {
  (void)session; (void)user_data;
  printf("%s %d\n", error_string, (int)error);
}
static void logger(const char *message) { printf("%s\n", message); }
static void done(otc_session *session, void *user_data, uint64_t signal_id, otc_status result,
                 void *completion_data) {
  (void)session; (void)user_data; (void)signal_id; (void)result; (void)completion_data;
}

int use_everything(void) {
  struct otc_session_callbacks a = {0};
  otc_session_callbacks b;
  struct otc_signal_options opts;
  struct otc_session_capabilities caps;
  otc_session_settings *settings;
  otc_session *session;
  otc_logger_callback lcb = logger;
  otc_signal_completion_callback ccb = done;
  enum otc_log_level level;
  enum otc_error_code generic = OTC_CONNECTION_DROPPED;
  enum otc_signal_error_code ours = OTC_SIGNAL_TARGET_NOT_CONNECTED;
  const char *ids[1];
  uint64_t signal_id = 0;
  char *sid;
  otc_connection *me;
  void *ud;
  otc_bool yes = OTC_TRUE;

  memset(&b, 0, sizeof b);
  a.on_connected = on_connected;
  a.on_disconnected = on_disconnected;
  a.on_connection_created = on_connection_created;
  a.on_connection_dropped = on_connection_dropped;
  a.on_signal_received = on_signal_received;
  a.on_stream_video_type_changed = on_stream_video_type_changed;
  a.on_error = on_error;
  a.user_data = NULL;
  a.reserved = NULL;
  b = a;

  otc_log_set_logger_callback(lcb);
  otc_log_enable(OTC_LOG_LEVEL_ALL);
  level = otc_get_log_level();
  if (otc_init(NULL) != OTC_SUCCESS) return 1;
  settings = otc_session_settings_new();
  otc_session_settings_set_connection_events_suppressed(settings, OTC_FALSE);
  otc_session_settings_set_server_url(settings, "http://127.0.0.1:4443");
  session = otc_session_new_with_settings("100000", "sid", &b, settings);
  otc_session_settings_delete(settings);
  otc_session_delete(otc_session_new("100000", "sid", &a));
  otc_session_connect(session, "token");
  opts.retry_after_reconnect = yes;
  otc_session_send_signal(session, "chat", "hi");
  otc_session_send_signal_with_options(session, "chat", "hi", opts);
  me = otc_session_get_connection(session);
  otc_session_send_signal_to_connection_with_options(session, "chat", "hi", me, opts);
  ids[0] = "c1";
  otc_session_send_signal_to_connections(session, "chat", "hi", ids, 1, opts, ccb, NULL, &signal_id);
  sid = otc_session_get_id(session);
  caps = otc_session_get_capabilities(session);
  ud = otc_session_get_user_data(session);
  otc_session_disconnect(session);
  otc_session_delete(session);
  (void)sid; (void)caps; (void)ud; (void)level; (void)generic; (void)ours;
  return otc_destroy() == OTC_SUCCESS ? 0 : 1;
}
"#;

fn compile(compiler: &str, file: &Path, extra: &[&str]) {
    let include = root().join("include");
    let out = Command::new(compiler)
        .args(extra)
        .args([
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-fsyntax-only",
            "-I",
        ])
        .arg(&include)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {extra:?} rejected code using opentok.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("opentok-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn header_compiles_as_strict_c99() {
    let f = scratch("use.c", USE_EVERYTHING);
    compile("cc", &f, &["-std=c99"]);
}

#[test]
fn header_compiles_as_strict_cpp14() {
    // `= {0}` draws g++'s missing-field-initializers warning whatever the
    // header does (see DESIGN.md); everything else is held to -Werror.
    let f = scratch("use.cpp", USE_EVERYTHING);
    compile(
        "c++",
        &f,
        &["-std=c++14", "-Wno-missing-field-initializers"],
    );
    // Without the = {0} line, C++ needs no exception at all.
    let strict = USE_EVERYTHING.replace(
        "struct otc_session_callbacks a = {0};",
        "struct otc_session_callbacks a;\n  memset(&a, 0, sizeof a);",
    );
    let f = scratch("strict.cpp", &strict);
    compile("c++", &f, &["-std=c++14"]);
}

#[test]
fn callback_struct_has_the_sdk_layout() {
    use opentok::ffi::otc_session_callbacks;
    // SDK 2.32: 18 callbacks (on_stream_has_captions_changed after
    // on_stream_has_video_changed, on_mute_forced after on_error), then
    // user_data and reserved.
    let p = std::mem::size_of::<*const ()>();
    assert_eq!(std::mem::size_of::<otc_session_callbacks>(), 20 * p);
    let z: otc_session_callbacks = unsafe { std::mem::zeroed() };
    let base = &z as *const _ as usize;
    assert_eq!(
        &z.on_stream_has_captions_changed as *const _ as usize - base,
        8 * p
    );
    assert_eq!(&z.on_signal_received as *const _ as usize - base, 11 * p);
    assert_eq!(&z.on_error as *const _ as usize - base, 16 * p);
    assert_eq!(&z.on_mute_forced as *const _ as usize - base, 17 * p);
    assert_eq!(&z.user_data as *const _ as usize - base, 18 * p);
    assert_eq!(&z.reserved as *const _ as usize - base, 19 * p);
}

/// The cdylib next to this test binary (target/<profile>/libopentok.so),
/// as `make test` builds it. A plain `cargo test` builds only the rlib, so
/// when it is missing it is built here, into a target directory of its own
/// (no wait on the lock of the one this test runs from).
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let so = dir.join("libopentok.so");
    if so.exists() {
        return so;
    }
    let own = dir.join("ffi-header-check");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "opentok", "--lib", "--quiet"])
        .env("CARGO_TARGET_DIR", &own)
        .current_dir(root())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "cargo build -p opentok --lib failed");
    let so = own.join("debug").join("libopentok.so");
    assert!(so.exists(), "{} was not built", so.display());
    so
}

#[test]
fn shared_library_exports_only_otc_symbols_and_has_a_versioned_soname() {
    let so = cdylib();
    let nm = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("run nm");
    assert!(nm.status.success());
    let text = String::from_utf8_lossy(&nm.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert!(names.contains(&"otc_session_send_signal"), "{names:?}");
    let foreign: Vec<&&str> = names.iter().filter(|n| !n.starts_with("otc_")).collect();
    assert!(foreign.is_empty(), "non-otc_ symbols exported: {foreign:?}");
    // Every function the header declares is exported.
    let header = std::fs::read_to_string(root().join("include/opentok.h")).unwrap();
    for line in header.lines() {
        if let Some(name) = line
            .split('(')
            .next()
            .and_then(|l| l.split_whitespace().last())
        {
            let name = name.trim_start_matches('*');
            if name.starts_with("otc_") && line.contains('(') && !line.contains("(*") {
                assert!(names.contains(&name), "{name} declared but not exported");
            }
        }
    }
    let rd = Command::new("readelf")
        .args(["-d"])
        .arg(&so)
        .output()
        .expect("run readelf");
    let dynamic = String::from_utf8_lossy(&rd.stdout);
    assert!(
        dynamic.contains("Library soname: [libopentok.so.0]"),
        "{dynamic}"
    );
}

/// Every function of the SDK 2.32 headers (tests/sdk_functions.txt, names
/// by header) is declared by our header (and so, by the test above,
/// exported by the library).
#[test]
fn the_header_declares_every_sdk_function() {
    let header = std::fs::read_to_string(root().join("include/opentok.h")).unwrap();
    // The identifier right before each "(".
    let declared: std::collections::BTreeSet<&str> = header
        .split('(')
        .filter_map(|before| {
            before
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
        })
        .filter(|w| w.starts_with("otc_"))
        .collect();
    let list = std::fs::read_to_string(root().join("tests/sdk_functions.txt")).unwrap();
    let missing: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|f| !declared.contains(f))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{} SDK functions are not declared in include/opentok.h:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
