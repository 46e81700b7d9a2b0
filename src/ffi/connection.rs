//! `otc_connection_*`: reading a participant, keeping one.

use std::ffi::c_char;

use super::{borrow, ffi_boundary, into_owned, otc_connection, otc_status, status, take_owned};
use crate::connection::Connection;
use crate::log;

/// The connection's id (valid as long as the connection pointer), or NULL
/// if `connection` is NULL.
///
/// # Safety
/// `connection` is NULL or a pointer this library gave out and that is
/// still valid.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_get_id(connection: *const otc_connection) -> *const c_char {
    ffi_boundary!("otc_connection_get_id", {
        match unsafe { borrow::<_, Connection>(connection, "connection") } {
            Ok(c) => c.id().as_ptr(),
            Err(e) => {
                log::error!("otc_connection_get_id: {e}");
                std::ptr::null()
            }
        }
    })
}

/// When the connection was created, in milliseconds since the Unix epoch
/// (0 if unknown or if `connection` is NULL).
///
/// # Safety
/// As `otc_connection_get_id`.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_get_creation_time(
    connection: *const otc_connection,
) -> i64 {
    ffi_boundary!("otc_connection_get_creation_time", {
        match unsafe { borrow::<_, Connection>(connection, "connection") } {
            Ok(c) => c.created_at_ms(),
            Err(e) => {
                log::error!("otc_connection_get_creation_time: {e}");
                0
            }
        }
    })
}

/// The connection data of the token it connected with ("" if none), or
/// NULL if `connection` is NULL.
///
/// # Safety
/// As `otc_connection_get_id`.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_get_data(
    connection: *const otc_connection,
) -> *const c_char {
    ffi_boundary!("otc_connection_get_data", {
        match unsafe { borrow::<_, Connection>(connection, "connection") } {
            Ok(c) => c.data().as_ptr(),
            Err(e) => {
                log::error!("otc_connection_get_data: {e}");
                std::ptr::null()
            }
        }
    })
}

/// The id of the session the connection belongs to, or NULL if
/// `connection` is NULL.
///
/// # Safety
/// As `otc_connection_get_id`.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_get_session_id(
    connection: *const otc_connection,
) -> *const c_char {
    ffi_boundary!("otc_connection_get_session_id", {
        match unsafe { borrow::<_, Connection>(connection, "connection") } {
            Ok(c) => c.session_id().as_ptr(),
            Err(e) => {
                log::error!("otc_connection_get_session_id: {e}");
                std::ptr::null()
            }
        }
    })
}

/// A copy that stays valid until `otc_connection_delete` (for example of a
/// connection received in a callback). NULL if `connection` is NULL.
///
/// # Safety
/// As `otc_connection_get_id`.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_copy(
    connection: *const otc_connection,
) -> *mut otc_connection {
    ffi_boundary!("otc_connection_copy", {
        match unsafe { borrow::<_, Connection>(connection, "connection") } {
            Ok(c) => into_owned::<otc_connection, Connection>(c.clone()),
            Err(e) => {
                log::error!("otc_connection_copy: {e}");
                std::ptr::null_mut()
            }
        }
    })
}

/// Frees a copy made by `otc_connection_copy`. Only copies may be deleted,
/// never the pointers given to callbacks or by `otc_session_get_connection`.
///
/// # Safety
/// `connection` is NULL or came from `otc_connection_copy` and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_delete(connection: *mut otc_connection) -> otc_status {
    ffi_boundary!("otc_connection_delete", {
        let r = unsafe { take_owned::<_, Connection>(connection, "connection") }.map(drop);
        status("otc_connection_delete", r)
    })
}
