//! The C ABI of libopentok, and nothing else.
//!
//! One file per C object (`session`, `settings`, `connection`, `log`,
//! `init`) plus `types` for the enums, structs and typedefs that the header
//! declares. Every `extern "C"` body is wrapped in [`ffi_boundary!`], which
//! turns a Rust panic into an error code (or NULL) instead of unwinding into
//! C. The helpers below make pointer handling explicit: C strings become
//! `&str` (NULL or invalid UTF-8 → 1011), opaque pointers are cast back to the
//! Rust values they stand for, and session handles are looked up in the
//! registry rather than dereferenced.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::log;
use crate::session::Session;

pub mod connection;
pub mod init;
pub mod log_api;
pub mod session;
pub mod settings;
pub mod types;

pub use connection::*;
pub use init::*;
pub use log_api::*;
pub use session::*;
pub use settings::*;
pub use types::*;

/// What an `extern "C"` function returns when its body panicked.
pub trait PanicDefault {
    fn panic_default() -> Self;
}

impl PanicDefault for otc_status {
    fn panic_default() -> Self {
        otc_session_error_code::OTC_SESSION_INTERNAL_ERROR as otc_status
    }
}

impl<T> PanicDefault for *mut T {
    fn panic_default() -> Self {
        std::ptr::null_mut()
    }
}

impl<T> PanicDefault for *const T {
    fn panic_default() -> Self {
        std::ptr::null()
    }
}

impl PanicDefault for () {
    fn panic_default() -> Self {}
}

impl PanicDefault for otc_session_capabilities {
    fn panic_default() -> Self {
        otc_session_capabilities { publish: OTC_FALSE }
    }
}

impl PanicDefault for otc_log_level {
    fn panic_default() -> Self {
        otc_log_level::OTC_LOG_LEVEL_DISABLED
    }
}

impl PanicDefault for i64 {
    fn panic_default() -> Self {
        0
    }
}

/// Runs the body of an `extern "C"` function; a panic is logged and becomes
/// the return type's [`PanicDefault`].
macro_rules! ffi_boundary {
    ($name:literal, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $body)) {
            Ok(v) => v,
            Err(_) => {
                $crate::log::error!("{}: internal error (panic caught at the C boundary)", $name);
                $crate::ffi::PanicDefault::panic_default()
            }
        }
    }};
}
pub(crate) use ffi_boundary;

/// Logs why a call failed and returns its code.
pub(crate) fn fail(name: &str, e: &Error) -> otc_status {
    log::error!("{name}: {e}");
    e.code.as_i32()
}

/// `Ok(())` → `OTC_SUCCESS`, `Err` → logged code.
pub(crate) fn status(name: &str, r: Result<()>) -> otc_status {
    match r {
        Ok(()) => OTC_SUCCESS,
        Err(e) => fail(name, &e),
    }
}

/// `Ok(p)` → p, `Err` → logged, NULL.
pub(crate) fn ptr_or_null<T>(name: &str, r: Result<*mut T>) -> *mut T {
    r.unwrap_or_else(|e| {
        log::error!("{name}: {e}");
        std::ptr::null_mut()
    })
}

/// A required C string argument: NULL or invalid UTF-8 is refused.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// An optional C string argument: NULL means "".
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn opt_str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Ok("");
    }
    unsafe { str_arg(p, what) }
}

/// The live session behind a handle (never dereferenced: looked up).
pub(crate) fn session_arg(p: *const otc_session) -> Result<Arc<Session>> {
    if p.is_null() {
        return Err(Error::invalid("session is NULL"));
    }
    crate::runtime::session(p as usize)
}

/// A borrowed Rust value behind an opaque C pointer.
///
/// # Safety
/// `p` is NULL or was produced by this library from a live `T`.
pub(crate) unsafe fn borrow<'a, C, T>(p: *const C, what: &str) -> Result<&'a T> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the opaque type C stands for T (caller's contract).
    Ok(unsafe { &*(p as *const T) })
}

/// A mutable Rust value behind an opaque C pointer.
///
/// # Safety
/// As [`borrow`], and no other reference to it is in use.
pub(crate) unsafe fn borrow_mut<'a, C, T>(p: *mut C, what: &str) -> Result<&'a mut T> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the opaque type C stands for T (caller's contract).
    Ok(unsafe { &mut *(p as *mut T) })
}

/// Hands a new Rust value to C as an owned opaque pointer.
pub(crate) fn into_owned<C, T>(v: T) -> *mut C {
    Box::into_raw(Box::new(v)) as *mut C
}

/// Takes back ownership of a value given to C with [`into_owned`].
///
/// # Safety
/// `p` came from `into_owned::<C, T>` and is not used again.
pub(crate) unsafe fn take_owned<C, T>(p: *mut C, what: &str) -> Result<Box<T>> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: caller's contract.
    Ok(unsafe { Box::from_raw(p as *mut T) })
}
