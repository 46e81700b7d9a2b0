//! video_capturer.h: custom video capturers.
//!
//! An application may give a publisher its own capturer callbacks
//! (`otc_publisher_new`, `otc_publisher_settings_set_video_capturer`); the
//! publisher keeps a copy, but nothing ever starts capturing here, so the
//! callbacks are never called and no `otc_video_capturer` handle is ever
//! given out. The functions below fail with the SDK's failure value for
//! their return type, logging once per function, without reading their
//! arguments.

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_int, c_void};

use super::otc_video_frame;
use crate::ffi::boundary::no_media;
use crate::ffi::{otc_bool, otc_status};

/// The handle a capturer's callbacks receive. None is ever given out here.
pub struct otc_video_capturer {
    _private: [u8; 0],
}

/// What a capturer says about the video it produces, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_video_capturer_settings {
    /// An `enum otc_video_frame_format` value.
    pub format: c_int,
    pub width: c_int,
    pub height: c_int,
    pub fps: c_int,
    /// Expected capture delay, in milliseconds.
    pub expected_delay: c_int,
    /// Whether the local rendering is mirrored.
    pub mirror_on_local_render: otc_bool,
}

/// A custom video capturer, in the Vonage SDK's order and layout. A copy is
/// kept by the publisher given it; none of the callbacks is ever called in
/// this library.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_video_capturer_callbacks {
    pub init: Option<
        unsafe extern "C" fn(
            capturer: *const otc_video_capturer,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub destroy: Option<
        unsafe extern "C" fn(
            capturer: *const otc_video_capturer,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub start: Option<
        unsafe extern "C" fn(
            capturer: *const otc_video_capturer,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub stop: Option<
        unsafe extern "C" fn(
            capturer: *const otc_video_capturer,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub get_capture_settings: Option<
        unsafe extern "C" fn(
            capturer: *const otc_video_capturer,
            user_data: *mut c_void,
            settings: *mut otc_video_capturer_settings,
        ) -> otc_bool,
    >,
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// The kind of content a capturer produces, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_capturer_content_hint_type {
    OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE = 0,
    OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_MOTION = 1,
    OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_DETAIL = 2,
    OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_TEXT = 3,
}

/// Rust-side stand-in for `enum otc_video_capturer_content_hint_type`
/// received from C (the header spells it
/// `enum otc_video_capturer_content_hint_type`).
pub type otc_video_capturer_content_hint_type_arg = c_int;

/// Would hand a captured frame to the publisher. Nothing captures here (no
/// capturer handle is ever given out): returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the arguments are
/// (they are not read).
#[no_mangle]
pub extern "C" fn otc_video_capturer_provide_frame(
    capturer: *const otc_video_capturer,
    rotation: c_int,
    frame: *const otc_video_frame,
) -> otc_status {
    no_media!()
}

/// Would tell the video encoder what the capturer's content is like.
/// Returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the arguments
/// are (they are not read).
#[no_mangle]
pub extern "C" fn otc_video_capturer_set_content_hint(
    capturer: *const otc_video_capturer,
    content_hint: otc_video_capturer_content_hint_type_arg,
) -> otc_status {
    no_media!()
}

/// Would return the content hint set before. Returns
/// `OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE` whatever `capturer` is (it
/// is not read).
#[no_mangle]
pub extern "C" fn otc_video_capturer_get_content_hint(
    capturer: *const otc_video_capturer,
) -> otc_video_capturer_content_hint_type {
    no_media!(or otc_video_capturer_content_hint_type::OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE)
}
