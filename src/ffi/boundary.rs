//! The one pattern every `extern "C"` body follows.
//!
//! A C function's signature is written out (cbindgen reads it), and its body
//! is a single `ffi!({ ... })` block that returns `Result<R>`:
//!
//! ```ignore
//! #[no_mangle]
//! pub unsafe extern "C" fn otc_connection_get_id(c: *const otc_connection) -> *const c_char {
//!     ffi!({ Ok(try_ref(c)?.id().as_ptr()) })
//! }
//! ```
//!
//! The macro finds the function's own name (so a log line can never name the
//! wrong function), stops panics at the boundary, logs an `Err` as
//! `"<function>: <reason> (error <code>)"`, and turns it into the C failure
//! value of the return type ([`CReturn`]): the error code for `otc_status`,
//! NULL for pointers. Functions whose SDK failure value is something else
//! (`OTC_FALSE`, `-1`, `0`) say so: `ffi!(or OTC_FALSE, { ... })`.
//!
//! Media functions, which cannot do their job in this library, use
//! [`no_media!`]: it logs once per function, then fails the same way.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::log;

/// The value an `extern "C"` function returns when its body fails.
pub trait CReturn: Sized {
    fn on_error(e: &Error) -> Self;
}

impl CReturn for std::ffi::c_int {
    /// `otc_status`: the error's SDK code.
    fn on_error(e: &Error) -> Self {
        e.code.as_i32()
    }
}

impl<T> CReturn for *mut T {
    fn on_error(_: &Error) -> Self {
        std::ptr::null_mut()
    }
}

impl<T> CReturn for *const T {
    fn on_error(_: &Error) -> Self {
        std::ptr::null()
    }
}

impl CReturn for () {
    fn on_error(_: &Error) -> Self {}
}

/// Runs `body` for the function `name`; see the module documentation.
pub fn run<R: CReturn>(name: &str, body: impl FnOnce() -> Result<R>) -> R {
    run_or_else(name, body, R::on_error)
}

/// As [`run`], with an explicit failure value.
pub fn run_or<R: Copy>(name: &str, failure: R, body: impl FnOnce() -> Result<R>) -> R {
    run_or_else(name, body, |_| failure)
}

fn run_or_else<R>(
    name: &str,
    body: impl FnOnce() -> Result<R>,
    failure: impl FnOnce(&Error) -> R,
) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            log::error!("{name}: {e}");
            failure(&e)
        }
        Err(_) => {
            let e = Error::internal("panic caught at the C boundary");
            log::error!("{name}: {e}");
            failure(&e)
        }
    }
}

/// The bare name of a function from the type name of an item nested in it
/// (`"opentok::ffi::connection::otc_connection_get_id::here"`).
pub fn bare_name(path: &'static str) -> &'static str {
    let mut path = path.strip_suffix("::here").unwrap_or(path);
    while let Some(outer) = path.strip_suffix("::{{closure}}") {
        path = outer;
    }
    path.rsplit("::").next().unwrap_or(path)
}

/// The name of the enclosing function, as a `&'static str`.
macro_rules! function_name {
    () => {{
        fn here() {}
        $crate::ffi::boundary::bare_name(std::any::type_name_of_val(&here))
    }};
}
pub(crate) use function_name;

/// The body of an `extern "C"` function (see the module documentation).
macro_rules! ffi {
    ($body:block) => {{
        let name = $crate::ffi::boundary::function_name!();
        $crate::ffi::boundary::run(name, || $body)
    }};
    (or $failure:expr, $body:block) => {{
        let name = $crate::ffi::boundary::function_name!();
        $crate::ffi::boundary::run_or(name, $failure, || $body)
    }};
}
pub(crate) use ffi;

/// Functions whose one-time warning was logged.
static REPORTED: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// Logs `"<name>: <message>"` at warning level the first time it is asked
/// for `name` while warnings are on (so enabling logging later still shows
/// it once).
pub fn warn_once(name: &'static str, message: impl std::fmt::Display) {
    if !log::enabled(log::Level::Warn) {
        return;
    }
    let first = REPORTED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(name);
    if first {
        log::warning!("{name}: {message}");
    }
}

/// The error of a function that needs the media engine, logged once per
/// function (see [`warn_once`]).
pub fn media_unavailable(name: &'static str) -> Error {
    let e = Error::media_unavailable();
    warn_once(name, &e);
    e
}

/// The body of a media function that checks its arguments first (the
/// `no_media!(after { ... })` form): a failed check is logged and returned
/// as by [`ffi!`]; once every check passes, the function fails as
/// `no_media!` does (logged once).
pub fn run_media<R: CReturn>(name: &'static str, checks: impl FnOnce() -> Result<()>) -> R {
    run_or_else(
        name,
        || checks().map(|()| R::on_error(&media_unavailable(name))),
        R::on_error,
    )
}

/// As [`run_media`], with an explicit failure value.
pub fn run_media_or<R: Copy>(
    name: &'static str,
    failure: R,
    checks: impl FnOnce() -> Result<()>,
) -> R {
    run_or_else(
        name,
        || {
            checks().map(|()| {
                media_unavailable(name);
                failure
            })
        },
        |_| failure,
    )
}

/// The whole body of a media function: fails with the SDK's failure value
/// for its return type (or the one given, as for [`ffi!`]), logging once;
/// panics are stopped as in `ffi!`. `no_media!(after { ...; Ok(()) })` runs
/// argument and state checks first (see [`run_media`]).
macro_rules! no_media {
    () => {{
        let name = $crate::ffi::boundary::function_name!();
        $crate::ffi::boundary::run_media(name, || Ok(()))
    }};
    (or $failure:expr) => {{
        let name = $crate::ffi::boundary::function_name!();
        $crate::ffi::boundary::run_media_or(name, $failure, || Ok(()))
    }};
    (after $checks:block) => {{
        let name = $crate::ffi::boundary::function_name!();
        $crate::ffi::boundary::run_media(name, || $checks)
    }};
}
pub(crate) use no_media;

#[cfg(test)]
mod tests {
    use super::*;

    fn otc_example_function() -> &'static str {
        function_name!()
    }

    #[test]
    fn finds_its_own_function_name() {
        assert_eq!(otc_example_function(), "otc_example_function");
        let inner = || function_name!();
        assert_eq!(inner(), "finds_its_own_function_name");
    }

    #[test]
    fn errors_and_panics_become_the_failure_value() {
        let code: std::ffi::c_int = run("f", || Err(Error::invalid("x")));
        assert_eq!(code, 1011);
        let p: *mut u8 = run("f", || panic!("boom"));
        assert!(p.is_null());
        let b: i32 = run_or("f", -1, || Err(Error::invalid("x")));
        assert_eq!(b, -1);
        let ok: std::ffi::c_int = run("f", || Ok(0));
        assert_eq!(ok, 0);
    }

    #[test]
    fn media_bodies_fail_with_the_check_or_with_no_media() {
        let refused: std::ffi::c_int = run_media("f", || Err(Error::invalid("x")));
        assert_eq!(refused, 1011);
        let checked: std::ffi::c_int = run_media("f", || Ok(()));
        assert_eq!(checked, 5000);
        let p: *const u8 = run_media("f", || Ok(()));
        assert!(p.is_null());
        let panicked: std::ffi::c_int = run_media("f", || panic!("boom"));
        assert_eq!(panicked, 2000);
    }
}
