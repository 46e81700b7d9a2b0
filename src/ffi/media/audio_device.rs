//! audio_device.h: a custom audio device (capture and playback).
//!
//! The SDK lets an application replace its audio device with callbacks and
//! feed or drain samples through the two data functions. Without a media
//! engine nothing would ever call the callbacks or consume the samples, so
//! all three functions fail with the SDK's failure value for their return
//! type, logging once per function, without reading their arguments.

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_int, c_void};

use crate::ffi::boundary::no_media;
use crate::ffi::{otc_bool, otc_status};

/// The handle an audio device's callbacks receive. None is ever given out
/// here.
pub struct otc_audio_device {
    _private: [u8; 0],
}

/// The audio format of a capturer or renderer, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_audio_device_settings {
    /// Samples per second.
    pub sampling_rate: c_int,
    pub number_of_channels: c_int,
}

/// A custom audio device, in the Vonage SDK's order and layout. Never
/// called in this library (`otc_set_audio_device` fails).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_audio_device_callbacks {
    pub init: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub destroy: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub init_capturer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub destroy_capturer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub start_capturer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub stop_capturer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub is_capturer_initialized: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub is_capturer_started: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub get_estimated_capture_delay: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> c_int,
    >,
    pub get_capture_settings: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
            settings: *mut otc_audio_device_settings,
        ) -> otc_bool,
    >,
    pub init_renderer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub destroy_renderer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub start_renderer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub stop_renderer: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub is_renderer_initialized: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub is_renderer_started: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> otc_bool,
    >,
    pub get_estimated_render_delay: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
        ) -> c_int,
    >,
    pub get_render_settings: Option<
        unsafe extern "C" fn(
            audio_device: *const otc_audio_device,
            user_data: *mut c_void,
            settings: *mut otc_audio_device_settings,
        ) -> otc_bool,
    >,
    /// Passed to every callback.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// Would copy up to `number_of_samples` samples of received audio into
/// `buffer`, for the custom device to play. Nothing is ever received here:
/// returns 0 (no samples) and writes nothing, whatever the arguments are
/// (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_device_read_render_data(
    buffer: *mut i16,
    number_of_samples: usize,
) -> usize {
    no_media!(or 0)
}

/// Would hand `number_of_samples` captured samples to the publishers.
/// Nothing is ever published here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the arguments are
/// (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_device_write_capture_data(
    buffer: *const i16,
    number_of_samples: usize,
) -> otc_status {
    no_media!()
}

/// Would make the callbacks the audio device of every publisher and
/// subscriber. Without a media engine they would never be called, so this
/// is refused rather than accepted: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `callbacks` is (it is
/// not read, nor kept).
#[no_mangle]
pub extern "C" fn otc_set_audio_device(callbacks: *const otc_audio_device_callbacks) -> otc_status {
    no_media!()
}
