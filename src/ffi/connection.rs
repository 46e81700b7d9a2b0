//! `otc_connection_*`: reading a participant, keeping one.

use std::ffi::c_char;

use super::boundary::ffi;
use super::castable::{castable, to_c, try_ref, try_take};
use super::{otc_connection, otc_status, OTC_SUCCESS};
use crate::connection::Connection;

castable!(otc_connection => Connection);

/// The connection's id (valid as long as the connection pointer), or NULL
/// if `connection` is NULL.
///
/// # Safety
/// `connection` is NULL or a pointer this library gave out and that is
/// still valid.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_get_id(connection: *const otc_connection) -> *const c_char {
    ffi!({ Ok(unsafe { try_ref(connection) }?.id().as_ptr()) })
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
    ffi!(or 0, { Ok(unsafe { try_ref(connection) }?.created_at_ms()) })
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
    ffi!({ Ok(unsafe { try_ref(connection) }?.data().as_ptr()) })
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
    ffi!({ Ok(unsafe { try_ref(connection) }?.session_id().as_ptr()) })
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
    ffi!({ Ok(to_c(unsafe { try_ref(connection) }?.clone())) })
}

/// Frees a copy made by `otc_connection_copy`. Only copies may be deleted,
/// never the pointers given to callbacks or by `otc_session_get_connection`.
///
/// # Safety
/// `connection` is NULL or came from `otc_connection_copy` and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_connection_delete(connection: *mut otc_connection) -> otc_status {
    ffi!({
        drop(unsafe { try_take(connection) }?);
        Ok(OTC_SUCCESS)
    })
}
