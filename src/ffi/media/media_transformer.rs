//! media_transformer.h: video and audio transformers (filters applied to a
//! publisher's media before it is encoded).
//!
//! Nothing is ever captured or encoded here, so no transformer can be made:
//! the create functions return NULL and the delete functions fail with
//! `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logging once per function,
//! without reading their arguments (the transform callbacks are never
//! called).

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_char, c_int, c_void};

use super::{otc_audio_data, otc_video_frame};
use crate::ffi::boundary::no_media;
use crate::ffi::otc_status;

/// The first value of `enum otc_media_transformer_error_code`.
pub const OTC_MEDIA_TRANSFORMER_ERROR_SPACE: c_int = 0x0A000000;

/// A video transformer. None is ever created here.
pub struct otc_video_transformer {
    _private: [u8; 0],
}

/// An audio transformer. None is ever created here.
pub struct otc_audio_transformer {
    _private: [u8; 0],
}

/// Transformer error codes, as in the Vonage SDK: they count up from
/// `OTC_MEDIA_TRANSFORMER_ERROR_SPACE`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_media_transformer_error_code {
    OTC_MEDIA_TRANSFORMER_INTERNAL_ERROR = 0x0A000000,
    OTC_MEDIA_TRANSFORMER_INVALID_TYPE = 0x0A000001,
    OTC_MEDIA_TRANSFORMER_NAME_NOT_PROVIDED = 0x0A000002,
    OTC_MEDIA_TRANSFORMER_CUSTOM_CALLBACK_NOT_PROVIDED = 0x0A000003,
    OTC_MEDIA_TRANSFORMER_PROPERTIES_NOT_PROVIDED = 0x0A000004,
    OTC_MEDIA_TRANSFORMER_MODEL_NOT_FOUND = 0x0A000005,
    OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_LIBRARY_NOT_LOADED = 0x0A000006,
    OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_SYMBOL_NOT_FOUND = 0x0A000007,
}

/// Who implements a transformer, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_media_transformer_type {
    /// The application's own callback.
    OTC_MEDIA_TRANSFORMER_TYPE_CUSTOM = 0,
    /// One of Vonage's transformers, chosen by name.
    OTC_MEDIA_TRANSFORMER_TYPE_VONAGE = 1,
}

/// Rust-side stand-in for `enum otc_media_transformer_type` received from C
/// (the header spells it `enum otc_media_transformer_type`).
pub type otc_media_transformer_type_arg = c_int;

/// A custom video transformer: changes `frame` in place. Never called here.
pub type video_transform_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *mut otc_video_frame)>;

/// A custom audio transformer: changes `audio_data` in place. Never called
/// here.
pub type audio_transform_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, audio_data: *mut otc_audio_data)>;

/// Would create a video transformer. Nothing is ever captured here: returns
/// NULL whatever the arguments are (they are not read; `cb` is never
/// called).
#[no_mangle]
pub extern "C" fn otc_video_transformer_create(
    r#type: otc_media_transformer_type_arg,
    name: *const c_char,
    properties: *const c_char,
    cb: video_transform_callback,
    user_data: *mut c_void,
) -> *mut otc_video_transformer {
    no_media!()
}

/// Would create an audio transformer. Nothing is ever captured here:
/// returns NULL whatever the arguments are (they are not read; `cb` is
/// never called).
#[no_mangle]
pub extern "C" fn otc_audio_transformer_create(
    r#type: otc_media_transformer_type_arg,
    name: *const c_char,
    properties: *const c_char,
    cb: audio_transform_callback,
    user_data: *mut c_void,
) -> *mut otc_audio_transformer {
    no_media!()
}

/// Would free a video transformer. None can exist here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `video_transformer`
/// is (it is not read).
#[no_mangle]
pub extern "C" fn otc_video_transformer_delete(
    video_transformer: *mut otc_video_transformer,
) -> otc_status {
    no_media!()
}

/// Would free an audio transformer. None can exist here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `audio_transformer`
/// is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_transformer_delete(
    audio_transformer: *mut otc_audio_transformer,
) -> otc_status {
    no_media!()
}
