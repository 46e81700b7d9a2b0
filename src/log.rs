//! The library's own logging, controlled from C.
//!
//! The Vonage SDK lets an application pick a verbosity with `otc_log_enable`
//! and route messages to its own function with `otc_log_set_logger_callback`.
//! We keep the same model: one process-wide threshold (an atomic, so checking
//! it costs nothing on hot paths) and an optional callback; without one,
//! messages go to stderr.
//!
//! The initial threshold is "disabled", as in the SDK, unless the environment
//! variable `OTC_LOG_LEVEL` names a level (a number such as `2`, or a name such
//! as `warn` / `all`); that helps when debugging a program one cannot rebuild.

use std::ffi::{c_char, CString};
use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Once, RwLock};

/// Severity of one message, with the SDK's `enum otc_log_level` values.
/// (The SDK's `FATAL`, `MSG`, `TRACE` and `ALL` are aliases of these.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }
}

/// Threshold value meaning "log nothing".
pub(crate) const DISABLED: i32 = 0;
/// Threshold value meaning "log everything" (`OTC_LOG_LEVEL_ALL`).
pub(crate) const ALL: i32 = Level::Debug as i32;

/// A C function that receives each formatted message.
pub type Callback = unsafe extern "C" fn(message: *const c_char);

static THRESHOLD: AtomicI32 = AtomicI32::new(DISABLED);
static ENV_INIT: Once = Once::new();
static CALLBACK: RwLock<Option<Callback>> = RwLock::new(None);

fn init_from_env() {
    ENV_INIT.call_once(|| {
        let Ok(v) = std::env::var("OTC_LOG_LEVEL") else {
            return;
        };
        let v = v.trim().to_ascii_lowercase();
        let level = match v.as_str() {
            "disabled" | "off" | "none" => DISABLED,
            "fatal" | "error" => Level::Error as i32,
            "warn" | "warning" => Level::Warn as i32,
            "info" => Level::Info as i32,
            "debug" | "msg" | "trace" | "all" => ALL,
            n => n
                .parse::<i32>()
                .map_or(DISABLED, |n| n.clamp(DISABLED, ALL)),
        };
        // Only if nobody called otc_log_enable first.
        let _ = THRESHOLD.compare_exchange(DISABLED, level, Ordering::SeqCst, Ordering::SeqCst);
    });
}

/// Sets the threshold: messages whose level value is at most `level` are
/// emitted (`0` disables logging, `4` enables everything).
pub fn set_threshold(level: i32) {
    ENV_INIT.call_once(|| {});
    THRESHOLD.store(level, Ordering::SeqCst);
}

/// The current threshold.
pub fn threshold() -> i32 {
    init_from_env();
    THRESHOLD.load(Ordering::Relaxed)
}

/// Routes messages to `cb` (or back to stderr with `None`).
pub fn set_callback(cb: Option<Callback>) {
    let mut slot = CALLBACK.write().unwrap_or_else(|e| e.into_inner());
    *slot = cb;
}

/// Would a message of this level be emitted?
pub fn enabled(level: Level) -> bool {
    (level as i32) <= threshold()
}

/// Formats and emits one message. The callback is copied out of its lock
/// before it is called, so it may itself call any library function.
pub fn emit(level: Level, args: std::fmt::Arguments<'_>) {
    let text = format!("opentok [{}] {}", level.name(), args);
    let cb = *CALLBACK.read().unwrap_or_else(|e| e.into_inner());
    match cb {
        Some(cb) => {
            let c = CString::new(text.replace('\0', "\\0")).unwrap_or_default();
            // SAFETY: the application registered this function for exactly
            // this purpose; the string lives until the call returns.
            unsafe { cb(c.as_ptr()) };
        }
        None => {
            // One write of the whole line: `writeln!` on unbuffered stderr
            // writes the text and the newline separately, and the
            // application's own output (stdout on the same pipe or
            // terminal) could land between the two.
            let mut line = text;
            line.push('\n');
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// Logs at a given level, formatting only when the level is enabled.
macro_rules! log_at {
    ($lvl:expr, $($arg:tt)*) => {
        if $crate::log::enabled($lvl) {
            $crate::log::emit($lvl, format_args!($($arg)*));
        }
    };
}
macro_rules! error { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Error, $($arg)*) }; }
macro_rules! warning { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Warn, $($arg)*) }; }
macro_rules! info { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Info, $($arg)*) }; }
macro_rules! debug { ($($arg:tt)*) => { $crate::log::log_at!($crate::log::Level::Debug, $($arg)*) }; }
pub(crate) use {debug, error, info, log_at, warning};

/// Messages held back until a lock is released.
///
/// The logger callback is application code, which may call back into the
/// library; it must never run while a library lock is held. Declare a
/// `Deferred` *before* taking the lock: locals drop in reverse order, so the
/// guard is released first and the messages are emitted afterwards, on every
/// return path.
#[derive(Default)]
pub struct Deferred(Vec<(Level, String)>);

impl Deferred {
    pub fn push(&mut self, level: Level, args: std::fmt::Arguments<'_>) {
        if enabled(level) {
            self.0.push((level, args.to_string()));
        }
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        for (level, msg) in self.0.drain(..) {
            emit(level, format_args!("{msg}"));
        }
    }
}
