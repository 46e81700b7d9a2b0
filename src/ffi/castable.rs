//! From C pointers back to Rust values, in one place.
//!
//! Each opaque C type is tied to the Rust type it stands for by
//! [`Castable`] (`castable!(otc_connection => Connection)`), so a pointer can
//! only ever be read as its own Rust type: `try_ref(connection)` needs no
//! type annotation and cannot be asked for the wrong one. Ownership is the
//! C type's too: [`to_c`] hands a boxed value to C, [`try_take`] takes it back
//! (the `*_delete` functions), [`try_ref`] / [`try_mut`] borrow it.
//!
//! NULL is always refused with `OTC_SESSION_NULL_OR_INVALID_PARAMETER` and a
//! reason naming the type. Session handles are not castable: they are looked
//! up in the registry (`runtime`), never dereferenced.

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::session::Session;

use super::otc_session;

/// Ties an opaque C type to the Rust value behind its pointers.
///
/// # Safety
/// Pointers of type `Self` given out by this library point to a live
/// `Self::Rust` (boxed by [`to_c`], or borrowed from a value the library
/// keeps alive for as long as its documentation says).
pub(crate) unsafe trait Castable {
    type Rust;
    /// The C name, for error messages.
    const NAME: &'static str;
}

/// Implements [`Castable`] for opaque C types.
macro_rules! castable {
    ($($c:ty => $rust:ty),+ $(,)?) => {$(
        // SAFETY: the library only hands out pointers of this C type that
        // point to the Rust type named here.
        unsafe impl $crate::ffi::castable::Castable for $c {
            type Rust = $rust;
            const NAME: &'static str = stringify!($c);
        }
    )+};
}
pub(crate) use castable;

fn null<C: Castable>() -> Error {
    Error::invalid(format!("{} pointer is NULL", C::NAME))
}

/// Borrows the value behind `p`.
///
/// # Safety
/// `p` is NULL or a pointer this library gave out, still valid.
pub(crate) unsafe fn try_ref<'a, C: Castable>(p: *const C) -> Result<&'a C::Rust> {
    // SAFETY: see `Castable`.
    unsafe { (p as *const C::Rust).as_ref() }.ok_or_else(null::<C>)
}

/// Borrows the value behind `p` mutably.
///
/// # Safety
/// As [`try_ref`], and nothing else uses the value meanwhile.
pub(crate) unsafe fn try_mut<'a, C: Castable>(p: *mut C) -> Result<&'a mut C::Rust> {
    // SAFETY: see `Castable`.
    unsafe { (p as *mut C::Rust).as_mut() }.ok_or_else(null::<C>)
}

/// Gives a new value to C; [`try_take`] gets it back.
pub(crate) fn to_c<C: Castable>(v: C::Rust) -> *mut C {
    Box::into_raw(Box::new(v)) as *mut C
}

/// Takes back a value given to C with [`to_c`].
///
/// # Safety
/// `p` is NULL or came from `to_c::<C>` and is not used again.
pub(crate) unsafe fn try_take<C: Castable>(p: *mut C) -> Result<Box<C::Rust>> {
    if p.is_null() {
        return Err(null::<C>());
    }
    // SAFETY: caller's contract.
    Ok(unsafe { Box::from_raw(p as *mut C::Rust) })
}

/// A pointer to the value behind a borrowed Rust reference, for C.
pub(crate) fn as_c<C: Castable>(v: &C::Rust) -> *const C {
    v as *const C::Rust as *const C
}

/// A required C string argument: NULL or invalid UTF-8 is refused.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn try_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
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
/// As [`try_str`].
pub(crate) unsafe fn try_opt_str<'a>(p: *const c_char, what: &str) -> Result<&'a str> {
    if p.is_null() {
        return Ok("");
    }
    unsafe { try_str(p, what) }
}

/// The live session behind a handle (looked up, never dereferenced).
pub(crate) fn try_session(p: *const otc_session) -> Result<Arc<Session>> {
    if p.is_null() {
        return Err(Error::invalid("otc_session pointer is NULL"));
    }
    crate::runtime::session(p as usize)
}

/// Copies a C struct argument that must not be NULL.
///
/// # Safety
/// `p` is NULL or points to a valid `T`.
pub(crate) unsafe fn try_copy<T: Copy>(p: *const T, what: &str) -> Result<T> {
    // SAFETY: caller's contract.
    unsafe { p.as_ref() }
        .copied()
        .ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}
