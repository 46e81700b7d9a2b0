//! subscriber.h: `otc_subscriber_*`, receiving another client's stream.
//!
//! Subscribing needs a stream, and no stream ever exists in this library,
//! so no subscriber can exist either: `otc_subscriber_new` returns NULL and
//! every other function fails with the SDK's failure value for its return
//! type, logging once per function. None of them reads the subscriber
//! pointer (no subscriber pointer can be valid) or writes through an output
//! pointer. The types are the SDK's, for code that declares callbacks.

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_char, c_void};

use super::{otc_audio_data, otc_stream, otc_video_frame};
use crate::ffi::boundary::no_media;
use crate::ffi::otc_video_reason;
use crate::ffi::{otc_bool, otc_session, otc_status, OTC_FALSE};

/// A subscriber to a stream. None exists in this library.
pub struct otc_subscriber {
    _private: [u8; 0],
}

/// Subscriber error codes, as in the Vonage SDK (given to `on_error`, which
/// is never called here).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_subscriber_error_code {
    OTC_SUBSCRIBER_INTERNAL_ERROR = 2000,
    OTC_SUBSCRIBER_SESSION_DISCONNECTED = 1010,
    OTC_SUBSCRIBER_SERVER_CANNOT_FIND_STREAM = 1604,
    OTC_SUBSCRIBER_STREAM_LIMIT_EXCEEDED = 1605,
    OTC_SUBSCRIBER_TIMED_OUT = 1542,
    OTC_SUBSCRIBER_WEBRTC_ERROR = 1600,
}

/// Audio statistics of a subscriber, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct otc_subscriber_audio_stats {
    pub packets_lost: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub audio_level: f32,
    pub timestamp: f64,
}

/// Video statistics of a subscriber, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct otc_subscriber_video_stats {
    pub packets_lost: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub timestamp: f64,
}

/// Receives a subscriber's RTC statistics report, as in the Vonage SDK.
/// Never called here (`otc_subscriber_set_rtc_stats_report_cb` fails).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_subscriber_rtc_stats_report_cb {
    /// Passed to `on_rtc_stats_report`.
    pub user_data: *mut c_void,
    pub on_rtc_stats_report: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            json_array_of_reports: *const c_char,
        ),
    >,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// A subscriber's callbacks, in the Vonage SDK's order and layout. None is
/// ever called in this library (no subscriber can be created).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_subscriber_callbacks {
    pub on_connected: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            stream: *const otc_stream,
        ),
    >,
    pub on_disconnected:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_reconnected:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_render_frame: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            frame: *const otc_video_frame,
        ),
    >,
    pub on_video_disabled: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            reason: otc_video_reason,
        ),
    >,
    pub on_video_enabled: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            reason: otc_video_reason,
        ),
    >,
    pub on_audio_disabled:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_audio_enabled:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_video_data_received:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_video_disable_warning:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_caption_text: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            text: *const c_char,
            is_final: otc_bool,
        ),
    >,
    pub on_video_disable_warning_lifted:
        Option<unsafe extern "C" fn(subscriber: *mut otc_subscriber, user_data: *mut c_void)>,
    pub on_audio_stats: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            audio_stats: otc_subscriber_audio_stats,
        ),
    >,
    pub on_video_stats: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            video_stats: otc_subscriber_video_stats,
        ),
    >,
    pub on_audio_level_updated: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            audio_level: f32,
        ),
    >,
    pub on_error: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            error_string: *const c_char,
            error: otc_subscriber_error_code,
        ),
    >,
    pub on_audio_data: Option<
        unsafe extern "C" fn(
            subscriber: *mut otc_subscriber,
            user_data: *mut c_void,
            audio_data: *const otc_audio_data,
        ),
    >,
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// Would create a subscriber to `stream`. No stream exists in this library,
/// so none can be subscribed to: returns NULL (and logs, once, that media is
/// not part of this library) whatever the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_new(
    stream: *const otc_stream,
    callbacks: *const otc_subscriber_callbacks,
) -> *mut otc_subscriber {
    no_media!()
}

/// Would free a subscriber. No subscriber can exist here, so there is
/// nothing to free: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000)
/// whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_delete(subscriber: *mut otc_subscriber) -> otc_status {
    no_media!()
}

/// Would return the subscriber's stream. No subscriber exists here: returns
/// NULL whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_stream(subscriber: *const otc_subscriber) -> *mut otc_stream {
    no_media!()
}

/// Would start or stop receiving the stream's video. No subscriber exists
/// here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_subscribe_to_video(
    subscriber: *mut otc_subscriber,
    subscribe_to_video: otc_bool,
) -> otc_status {
    no_media!()
}

/// Would start or stop receiving the stream's audio. No subscriber exists
/// here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_subscribe_to_audio(
    subscriber: *mut otc_subscriber,
    subscribe_to_audio: otc_bool,
) -> otc_status {
    no_media!()
}

/// Would start or stop receiving the stream's captions. No subscriber
/// exists here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_subscribe_to_captions(
    subscriber: *mut otc_subscriber,
    subscribe_to_captions: otc_bool,
) -> otc_status {
    no_media!()
}

/// Would say whether the subscriber receives video. No subscriber exists
/// here: returns `OTC_FALSE` whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_subscribe_to_video(
    subscriber: *const otc_subscriber,
) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the subscriber receives audio. No subscriber exists
/// here: returns `OTC_FALSE` whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_subscribe_to_audio(
    subscriber: *const otc_subscriber,
) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the subscriber receives captions. No subscriber exists
/// here: returns `OTC_FALSE` whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_subscribe_to_captions(
    subscriber: *const otc_subscriber,
) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would return the session the subscriber belongs to. No subscriber exists
/// here: returns NULL whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_session(
    subscriber: *const otc_subscriber,
) -> *mut otc_session {
    no_media!()
}

/// Would ask for the stream's video at this resolution. No subscriber
/// exists here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_preferred_resolution(
    subscriber: *mut otc_subscriber,
    preferred_width: u32,
    preferred_height: u32,
) -> otc_status {
    no_media!()
}

/// Would write the preferred resolution set before. No subscriber exists
/// here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) and writes
/// nothing, whatever the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_preferred_resolution(
    subscriber: *const otc_subscriber,
    preferred_width: *mut u32,
    preferred_height: *mut u32,
) -> otc_status {
    no_media!()
}

/// Would set the playback volume of the stream's audio. No subscriber
/// exists here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_audio_volume(
    subscriber: *mut otc_subscriber,
    volume: f64,
) -> otc_status {
    no_media!()
}

/// Would write the playback volume. No subscriber exists here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) and writes nothing, whatever
/// the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_audio_volume(
    subscriber: *const otc_subscriber,
    volume: *mut f64,
) -> otc_status {
    no_media!()
}

/// Would ask for the stream's video at this frame rate. No subscriber
/// exists here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_preferred_framerate(
    subscriber: *mut otc_subscriber,
    preferred_framerate: f32,
) -> otc_status {
    no_media!()
}

/// Would write the preferred frame rate set before. No subscriber exists
/// here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) and writes
/// nothing, whatever the arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_preferred_framerate(
    subscriber: *const otc_subscriber,
    preferred_framerate: *mut f32,
) -> otc_status {
    no_media!()
}

/// Would return the subscriber's id. No subscriber exists here: returns
/// NULL whatever `subscriber` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_subscriber_id(
    subscriber: *const otc_subscriber,
) -> *const c_char {
    no_media!()
}

/// Would return the `user_data` of the subscriber's callbacks. No
/// subscriber exists here: returns NULL whatever `subscriber` is (it is not
/// read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_user_data(subscriber: *const otc_subscriber) -> *mut c_void {
    no_media!()
}

/// Would request an RTC statistics report. No subscriber exists here:
/// returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `subscriber`
/// is (it is not read).
#[no_mangle]
pub extern "C" fn otc_subscriber_get_rtc_stats_report(
    subscriber: *const otc_subscriber,
) -> otc_status {
    no_media!()
}

/// Would set the callback that receives RTC statistics reports. No
/// subscriber exists here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000)
/// whatever the arguments are (they are not read; `cb` is never called).
#[no_mangle]
pub extern "C" fn otc_subscriber_set_rtc_stats_report_cb(
    subscriber: *mut otc_subscriber,
    cb: otc_subscriber_rtc_stats_report_cb,
) -> otc_status {
    no_media!()
}
