//! The media functions of session.h: publishing, subscribing and forcing
//! streams to mute.
//!
//! Each checks what it is given the way the rest of the session API does
//! (a NULL or unknown session handle: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`,
//! or `OTC_SESSION_ILLEGAL_STATE` before `otc_init`; NULL arguments: 1011;
//! a session that is not connected: `OTC_SESSION_NOT_CONNECTED`), and then
//! fails, because what it asks for needs media:
//!
//! | function | after the checks |
//! |---|---|
//! | `otc_session_publish` | `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) |
//! | `otc_session_unpublish` | `OTC_SESSION_PUBLISHER_NOT_FOUND` (1113) |
//! | `otc_session_subscribe` | `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) |
//! | `otc_session_unsubscribe` | `OTC_SESSION_SUBSCRIBER_NOT_FOUND` (1112) |
//! | `otc_session_force_mute_*`, `otc_session_disable_force_mute` | `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) |
//!
//! The 5000 failures are logged once per function (`no_media!`); the others
//! are logged on every call, as any refused call is. None of them changes
//! the session: it stays connected and signals keep working. No publisher or
//! subscriber pointer is read (a subscriber pointer cannot be valid, and a
//! publisher needs only to be non-NULL to be refused).

use std::ffi::{c_char, c_int};

use protocol::ErrorCode;

use super::{otc_publisher, otc_subscriber};
use crate::error::{Error, Result};
use crate::ffi::boundary::{ffi, no_media};
use crate::ffi::castable::try_session;
use crate::ffi::{otc_session, otc_status};
use crate::session::{Session, State};

/// Refuses a NULL pointer argument, naming it.
fn non_null<T>(p: *const T, what: &str) -> Result<()> {
    if p.is_null() {
        Err(Error::invalid(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Refuses a session that is not connected (reconnecting counts as
/// connected: the connection is being resumed).
fn connected(session: &Session, action: &str) -> Result<()> {
    match session.state() {
        State::Connected | State::Reconnecting => Ok(()),
        state => Err(Error::not_connected(format!(
            "cannot {action}: the session is {state:?}"
        ))),
    }
}

/// Would start publishing `publisher`'s media in the session. There is no
/// media engine here, so once the arguments pass (a NULL or unknown session
/// or a NULL publisher: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`; before
/// `otc_init`: `OTC_SESSION_ILLEGAL_STATE`; a session not connected:
/// `OTC_SESSION_NOT_CONNECTED`) it returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logged once. The session and
/// the publisher are unchanged; no publisher callback is called.
#[no_mangle]
pub extern "C" fn otc_session_publish(
    session: *mut otc_session,
    publisher: *mut otc_publisher,
) -> otc_status {
    no_media!(after {
        let s = try_session(session)?;
        non_null(publisher, "publisher")?;
        connected(&s, "publish")
    })
}

/// Would stop publishing `publisher`. No publisher is ever published here,
/// so once the arguments pass (a NULL or unknown session or a NULL
/// publisher: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`) it returns
/// `OTC_SESSION_PUBLISHER_NOT_FOUND` (1113).
#[no_mangle]
pub extern "C" fn otc_session_unpublish(
    session: *mut otc_session,
    publisher: *mut otc_publisher,
) -> otc_status {
    ffi!({
        try_session(session)?;
        non_null(publisher, "publisher")?;
        Err(Error::new(
            ErrorCode::PublisherNotFound,
            "the publisher is not published in this session (publishing needs media, which is \
             not part of this library)",
        ))
    })
}

/// Would start receiving the stream of `subscriber`. No subscriber can
/// exist here (`otc_subscriber_new` returns NULL), so once the arguments
/// pass (a NULL or unknown session or a NULL subscriber:
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER`; a session not connected:
/// `OTC_SESSION_NOT_CONNECTED`) it returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logged once. `subscriber` is
/// not read.
#[no_mangle]
pub extern "C" fn otc_session_subscribe(
    session: *mut otc_session,
    subscriber: *mut otc_subscriber,
) -> otc_status {
    no_media!(after {
        let s = try_session(session)?;
        non_null(subscriber, "subscriber")?;
        connected(&s, "subscribe")
    })
}

/// Would stop receiving the stream of `subscriber`. Nothing is ever
/// subscribed here, so once the arguments pass (a NULL or unknown session
/// or a NULL subscriber: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`) it
/// returns `OTC_SESSION_SUBSCRIBER_NOT_FOUND` (1112). `subscriber` is not
/// read.
#[no_mangle]
pub extern "C" fn otc_session_unsubscribe(
    session: *mut otc_session,
    subscriber: *mut otc_subscriber,
) -> otc_status {
    ffi!({
        try_session(session)?;
        non_null(subscriber, "subscriber")?;
        Err(Error::new(
            ErrorCode::SubscriberNotFound,
            "the subscriber is not subscribed in this session (subscribing needs media, which \
             is not part of this library)",
        ))
    })
}

/// Would mute the audio of every stream in the session but the
/// `excluded_streams_len` ones listed in `excluded_streams_ids` (which may
/// be NULL when the length is 0). There are no streams here, so once the
/// arguments pass (a NULL or unknown session, a negative length, or NULL
/// ids with a positive length: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`; a
/// session not connected: `OTC_SESSION_NOT_CONNECTED`) it returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logged once. The ids are not
/// read.
#[no_mangle]
pub extern "C" fn otc_session_force_mute_all(
    session: *mut otc_session,
    excluded_streams_ids: *mut *const c_char,
    excluded_streams_len: c_int,
) -> otc_status {
    no_media!(after {
        let s = try_session(session)?;
        if excluded_streams_len < 0 {
            return Err(Error::invalid(format!(
                "excluded_streams_len is negative ({excluded_streams_len})"
            )));
        }
        if excluded_streams_len > 0 {
            non_null(excluded_streams_ids, "excluded_streams_ids")?;
        }
        connected(&s, "force streams to mute")
    })
}

/// Would mute the audio of the stream `stream_id_to_mute`. There are no
/// streams here, so once the arguments pass (a NULL or unknown session or a
/// NULL id: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`; a session not
/// connected: `OTC_SESSION_NOT_CONNECTED`) it returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logged once.
#[no_mangle]
pub extern "C" fn otc_session_force_mute_stream(
    session: *const otc_session,
    stream_id_to_mute: *const c_char,
) -> otc_status {
    no_media!(after {
        let s = try_session(session)?;
        non_null(stream_id_to_mute, "stream_id_to_mute")?;
        connected(&s, "force a stream to mute")
    })
}

/// Would let the streams muted by `otc_session_force_mute_all` unmute
/// themselves again. There are no streams here, so once the session passes
/// (NULL or unknown: `OTC_SESSION_NULL_OR_INVALID_PARAMETER`; not
/// connected: `OTC_SESSION_NOT_CONNECTED`) it returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logged once.
#[no_mangle]
pub extern "C" fn otc_session_disable_force_mute(session: *mut otc_session) -> otc_status {
    no_media!(after {
        let s = try_session(session)?;
        connected(&s, "disable force mute")
    })
}
