//! `otc_init` / `otc_destroy`: the library's lifetime in a process.

use std::ffi::c_void;

use super::boundary::ffi;
use super::{otc_status, success};
use crate::runtime;

/// Initializes the library: starts its I/O and callback threads. Call it
/// once before any other function (logging functions excepted). Calling it
/// again while initialized does nothing and returns `OTC_SUCCESS`.
/// `reserved` is ignored; pass NULL.
#[no_mangle]
pub extern "C" fn otc_init(reserved: *mut c_void) -> otc_status {
    let _ = reserved;
    ffi!({ success(runtime::init()) })
}

/// Shuts the library down: deletes every session still alive (no callback
/// runs after this returns), then stops the library's threads. Returns
/// `OTC_SESSION_ILLEGAL_STATE` if the library is not initialized. After it,
/// every function returns `OTC_SESSION_ILLEGAL_STATE` (or NULL) until
/// `otc_init` is called again.
#[no_mangle]
pub extern "C" fn otc_destroy() -> otc_status {
    ffi!({ success(runtime::destroy()) })
}
