//! stream.h: `otc_stream_*`, reading a media stream.
//!
//! No stream ever exists in this library (no media is published, so the
//! server announces none and no `on_stream_*` callback is called). Every
//! function here therefore fails with the SDK's failure value for its
//! return type, logging once per function, and never looks at the pointer
//! it is given: no stream pointer can be valid.

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_char, c_int};

use crate::ffi::boundary::no_media;
use crate::ffi::{otc_bool, otc_connection, otc_status, OTC_FALSE};

/// A media stream. None exists in this library; the type is named by the
/// session and publisher callbacks (never called with a stream) and by the
/// `otc_stream_*` functions (which all fail).
pub struct otc_stream {
    _private: [u8; 0],
}

/// Stream video types, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_stream_video_type {
    OTC_STREAM_VIDEO_TYPE_CAMERA = 1,
    OTC_STREAM_VIDEO_TYPE_SCREEN = 2,
    OTC_STREAM_VIDEO_TYPE_CUSTOM = 3,
}

/// Would return the stream's id. No stream exists here: returns NULL
/// whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_id(stream: *const otc_stream) -> *const c_char {
    no_media!()
}

/// Would return the stream's name. No stream exists here: returns NULL
/// whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_name(stream: *const otc_stream) -> *const c_char {
    no_media!()
}

/// Would say whether the stream has a video track. No stream exists here:
/// returns `OTC_FALSE` whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_has_video_track(stream: *const otc_stream) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the stream is publishing video. No stream exists
/// here: returns `OTC_FALSE` whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_has_video(stream: *const otc_stream) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the stream has an audio track. No stream exists here:
/// returns `OTC_FALSE` whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_has_audio_track(stream: *const otc_stream) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the stream is publishing audio. No stream exists
/// here: returns `OTC_FALSE` whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_has_audio(stream: *const otc_stream) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would say whether the stream carries captions. No stream exists here:
/// returns `OTC_FALSE` whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_has_captions(stream: *const otc_stream) -> otc_bool {
    no_media!(or OTC_FALSE)
}

/// Would copy a stream. No stream exists here: returns NULL whatever
/// `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_copy(stream: *const otc_stream) -> *mut otc_stream {
    no_media!()
}

/// Would free a copy made by `otc_stream_copy`. No stream exists here, so
/// there is nothing to free: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE`
/// (5000) whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_delete(stream: *mut otc_stream) -> otc_status {
    no_media!()
}

/// Would return the width of the stream's video. No stream exists here:
/// returns 0 whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_video_width(stream: *const otc_stream) -> c_int {
    no_media!(or 0)
}

/// Would return the height of the stream's video. No stream exists here:
/// returns 0 whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_video_height(stream: *const otc_stream) -> c_int {
    no_media!(or 0)
}

/// Would return when the stream was created, in milliseconds since the
/// Unix epoch. No stream exists here: returns 0 whatever `stream` is (it is
/// not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_creation_time(stream: *const otc_stream) -> i64 {
    no_media!(or 0)
}

/// Would return the stream's video type. No stream exists here: returns
/// `OTC_STREAM_VIDEO_TYPE_CAMERA` (the enum has no "none" member) whatever
/// `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_video_type(stream: *const otc_stream) -> otc_stream_video_type {
    no_media!(or otc_stream_video_type::OTC_STREAM_VIDEO_TYPE_CAMERA)
}

/// Would return the connection that publishes the stream. No stream exists
/// here: returns NULL whatever `stream` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_stream_get_connection(stream: *const otc_stream) -> *const otc_connection {
    no_media!()
}
