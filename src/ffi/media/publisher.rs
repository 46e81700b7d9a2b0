//! publisher.h: `otc_publisher_*` and `otc_publisher_settings_*`.
//!
//! A publisher is a real object here, because SDK programs create one
//! before they connect (and give up if that fails): it keeps its name, a
//! random id, copies of the callbacks and capturer callbacks, the settings
//! it was made with and the flags set on it, and every getter returns what
//! was stored. Publishing it is what cannot work (`otc_session_publish`
//! fails with `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE`), so it never has a stream
//! or a session, and none of its callbacks (nor the capturer's) is ever
//! called. Functions that need media (RTC statistics, transformers) fail
//! with 5000, logging once per function.
//!
//! The publisher's changeable state sits behind a mutex, so its functions
//! may be called from any thread.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Mutex, MutexGuard};

use super::{
    c_enum, is_true, otc_audio_transformer, otc_camera_capture_resolution,
    otc_camera_capture_resolution_arg, otc_stream, otc_video_capturer_callbacks, otc_video_frame,
    otc_video_transformer, to_otc_bool, CEnum,
};
use crate::error::{Error, Result};
use crate::ffi::boundary::{ffi, no_media};
use crate::ffi::castable::{castable, to_c, try_copy, try_mut, try_ref, try_take};
use crate::ffi::{otc_bool, otc_session, otc_status, otc_video_reason, OTC_FALSE, OTC_SUCCESS};

/// A publisher: made by `otc_publisher_new` or
/// `otc_publisher_new_with_settings`, freed by `otc_publisher_delete`.
pub struct otc_publisher {
    _private: [u8; 0],
}

/// Options for `otc_publisher_new_with_settings`: made by
/// `otc_publisher_settings_new`, freed by `otc_publisher_settings_delete`.
pub struct otc_publisher_settings {
    _private: [u8; 0],
}

/// Publisher error codes, as in the Vonage SDK (given to `on_error`, which
/// is never called here).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_publisher_error_code {
    OTC_PUBLISHER_INTERNAL_ERROR = 2000,
    OTC_PUBLISHER_SESSION_DISCONNECTED = 1010,
    OTC_PUBLISHER_TIMED_OUT = 1541,
    OTC_PUBLISHER_UNABLE_TO_PUBLISH = 1500,
    OTC_PUBLISHER_WEBRTC_ERROR = 1610,
    OTC_PUBLISHER_ENCRYPTION_INTERNAL_ERROR = 6001,
    OTC_PUBLISHER_ENCRYPTION_UNSUPPORTED_CODEC = 6005,
}

/// What a publisher's video shows, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_publisher_video_type {
    OTC_PUBLISHER_VIDEO_TYPE_CAMERA = 1,
    OTC_PUBLISHER_VIDEO_TYPE_SCREEN = 2,
}

/// Rust-side stand-in for `enum otc_publisher_video_type` received from C
/// (the header spells it `enum otc_publisher_video_type`).
pub type otc_publisher_video_type_arg = c_int;

/// Kinds of media, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_media_type {
    OTC_MEDIA_TYPE_VIDEO = 0,
    OTC_MEDIA_TYPE_AUDIO = 1,
}

/// Video bitrate strategies of a publisher, as in the Vonage SDK.
/// `OTC_VIDEO_BITRATE_PRESET_CUSTOM` means a maximum bitrate was set with
/// `otc_publisher_set_max_video_bitrate`; it cannot be set directly.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_bitrate_preset {
    OTC_VIDEO_BITRATE_PRESET_DEFAULT = 0,
    OTC_VIDEO_BITRATE_PRESET_BW_SAVER = 1,
    OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER = 2,
    OTC_VIDEO_BITRATE_PRESET_CUSTOM = 3,
}

/// Rust-side stand-in for `enum otc_video_bitrate_preset` received from C
/// (the header spells it `enum otc_video_bitrate_preset`).
pub type otc_video_bitrate_preset_arg = c_int;

c_enum! {
    otc_publisher_video_type {
        OTC_PUBLISHER_VIDEO_TYPE_CAMERA,
        OTC_PUBLISHER_VIDEO_TYPE_SCREEN,
    }
    otc_video_bitrate_preset {
        OTC_VIDEO_BITRATE_PRESET_DEFAULT,
        OTC_VIDEO_BITRATE_PRESET_BW_SAVER,
        OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER,
        OTC_VIDEO_BITRATE_PRESET_CUSTOM,
    }
}

/// Audio statistics of one subscriber to a publisher, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct otc_publisher_audio_stats {
    pub connection_id: *const c_char,
    pub subscriber_id: *const c_char,
    pub packets_lost: i64,
    pub packets_sent: i64,
    pub bytes_sent: i64,
    pub audio_level: f32,
    pub timestamp: f64,
    pub start_time: f64,
}

/// Video statistics of one subscriber to a publisher, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct otc_publisher_video_stats {
    pub connection_id: *const c_char,
    pub subscriber_id: *const c_char,
    pub packets_lost: i64,
    pub packets_sent: i64,
    pub bytes_sent: i64,
    pub timestamp: f64,
    pub start_time: f64,
}

/// The RTC statistics report of one of a publisher's connections, as in the
/// Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_publisher_rtc_stats {
    pub connection_id: *const c_char,
    pub json_array_of_reports: *const c_char,
}

/// Receives a publisher's RTC statistics reports, as in the Vonage SDK.
/// Never called here (`otc_publisher_set_rtc_stats_report_cb` fails).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_publisher_rtc_stats_report_cb {
    /// Passed to `on_rtc_stats_report`.
    pub user_data: *mut c_void,
    pub on_rtc_stats_report: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            stats: *const otc_publisher_rtc_stats,
            entries: usize,
        ),
    >,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// A publisher's callbacks, in the Vonage SDK's order and layout. The
/// publisher keeps a copy; none is ever called in this library (nothing is
/// published), and `user_data` is what `otc_publisher_get_user_data`
/// returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct otc_publisher_callbacks {
    pub on_stream_created: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            stream: *const otc_stream,
        ),
    >,
    pub on_stream_destroyed: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            stream: *const otc_stream,
        ),
    >,
    pub on_render_frame: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            frame: *const otc_video_frame,
        ),
    >,
    pub on_audio_level_updated: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            audio_level: f32,
        ),
    >,
    pub on_publisher_mute_forced:
        Option<unsafe extern "C" fn(publisher: *mut otc_publisher, user_data: *mut c_void)>,
    pub on_audio_stats: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            audio_stats: *mut otc_publisher_audio_stats,
            number_of_stats: usize,
        ),
    >,
    pub on_video_stats: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            video_stats: *mut otc_publisher_video_stats,
            number_of_stats: usize,
        ),
    >,
    pub on_error: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            error_string: *const c_char,
            error_code: otc_publisher_error_code,
        ),
    >,
    pub on_video_disabled: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            reason: otc_video_reason,
        ),
    >,
    pub on_video_enabled: Option<
        unsafe extern "C" fn(
            publisher: *mut otc_publisher,
            user_data: *mut c_void,
            reason: otc_video_reason,
        ),
    >,
    pub on_video_disable_warning:
        Option<unsafe extern "C" fn(publisher: *mut otc_publisher, user_data: *mut c_void)>,
    pub on_video_disable_warning_lifted:
        Option<unsafe extern "C" fn(publisher: *mut otc_publisher, user_data: *mut c_void)>,
    /// Passed to every callback; returned by `otc_publisher_get_user_data`.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// Accepted by `otc_publisher_set_max_audio_bitrate`, in bits per second.
const AUDIO_BITRATE_RANGE: std::ops::RangeInclusive<u32> = 6_000..=510_000;
/// Accepted by `otc_publisher_set_max_video_bitrate`, in bits per second.
const VIDEO_BITRATE_RANGE: std::ops::RangeInclusive<u32> = 5_000..=10_000_000;

/// What `otc_publisher_settings_*` store (the SDK's defaults until set).
#[derive(Clone)]
pub struct PublisherSettings {
    name: Option<CString>,
    capturer: Option<otc_video_capturer_callbacks>,
    audio_track: bool,
    video_track: bool,
    stereo: bool,
    opus_dtx: bool,
    auto_gain_control: bool,
    noise_suppression: bool,
    echo_cancellation: bool,
    camera_capture_resolution: otc_camera_capture_resolution,
    scalable_screenshare: bool,
}

impl Default for PublisherSettings {
    fn default() -> Self {
        PublisherSettings {
            name: None,
            capturer: None,
            audio_track: true,
            video_track: true,
            stereo: false,
            opus_dtx: false,
            auto_gain_control: true,
            noise_suppression: true,
            echo_cancellation: true,
            camera_capture_resolution:
                otc_camera_capture_resolution::OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM,
            scalable_screenshare: false,
        }
    }
}

/// What may change on a publisher after it is made.
struct PublisherState {
    publish_audio: bool,
    publish_video: bool,
    publish_captions: bool,
    audio_fallback: bool,
    video_type: otc_publisher_video_type,
    bitrate_preset: otc_video_bitrate_preset,
    /// 0 until a maximum is set (then the preset is CUSTOM).
    max_video_bitrate: u32,
    /// `None` until a maximum is set (the SDK has no getter for it).
    max_audio_bitrate: Option<u32>,
}

/// The value behind an `otc_publisher` pointer.
pub struct Publisher {
    name: CString,
    id: CString,
    callbacks: otc_publisher_callbacks,
    settings: PublisherSettings,
    state: Mutex<PublisherState>,
}

impl Publisher {
    fn new(callbacks: otc_publisher_callbacks, settings: PublisherSettings) -> Publisher {
        let state = PublisherState {
            publish_audio: settings.audio_track,
            publish_video: settings.video_track,
            publish_captions: false,
            audio_fallback: true,
            video_type: otc_publisher_video_type::OTC_PUBLISHER_VIDEO_TYPE_CAMERA,
            bitrate_preset: otc_video_bitrate_preset::OTC_VIDEO_BITRATE_PRESET_DEFAULT,
            max_video_bitrate: 0,
            max_audio_bitrate: None,
        };
        Publisher {
            name: settings.name.clone().unwrap_or_default(),
            id: new_publisher_id(),
            callbacks,
            settings,
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> MutexGuard<'_, PublisherState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The capturer callbacks it was given, if any (kept, never called).
    pub fn capturer(&self) -> Option<&otc_video_capturer_callbacks> {
        self.settings.capturer.as_ref()
    }
}

castable!(
    otc_publisher => Publisher,
    otc_publisher_settings => PublisherSettings,
);

/// A random id in the usual 8-4-4-4-12 hexadecimal form.
fn new_publisher_id() -> CString {
    let h = format!("{:032x}", rand::random::<u128>());
    let id = format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    );
    CString::new(id).unwrap_or_default()
}

/// A copy of an optional C string argument (any bytes; NULL is `None`).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
unsafe fn copy_opt_cstr(p: *const c_char) -> Option<CString> {
    // SAFETY: caller's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_owned())
}

/// A copy of an optional C struct argument (NULL is `None`).
///
/// # Safety
/// `p` is NULL or points to a valid `T`.
unsafe fn copy_opt<T: Copy>(p: *const T) -> Option<T> {
    // SAFETY: caller's contract.
    unsafe { p.as_ref() }.copied()
}

/// Changes settings with `apply`: the body of every settings setter.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
unsafe fn change_settings(
    settings: *mut otc_publisher_settings,
    apply: impl FnOnce(&mut PublisherSettings),
) -> Result<otc_status> {
    apply(unsafe { try_mut(settings) }?);
    Ok(OTC_SUCCESS)
}

/// Changes a publisher's state with `apply`: the body of every setter.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
unsafe fn change(
    publisher: *mut otc_publisher,
    apply: impl FnOnce(&mut PublisherState) -> Result<()>,
) -> Result<otc_status> {
    apply(&mut unsafe { try_ref(publisher) }?.state())?;
    Ok(OTC_SUCCESS)
}

/// Reads a publisher's state with `get`: the body of every getter.
///
/// # Safety
/// As [`change`].
unsafe fn read<T>(
    publisher: *const otc_publisher,
    get: impl FnOnce(&PublisherState) -> T,
) -> Result<T> {
    Ok(get(&unsafe { try_ref(publisher) }?.state()))
}

/// Sets the flag `field` selects: the body of every flag setter.
///
/// # Safety
/// As [`change`].
unsafe fn set_flag(
    publisher: *mut otc_publisher,
    field: fn(&mut PublisherState) -> &mut bool,
    value: otc_bool,
) -> Result<otc_status> {
    unsafe {
        change(publisher, |s| {
            *field(s) = is_true(value);
            Ok(())
        })
    }
}

/// Reads the flag `field` selects as an `otc_bool`: the body of every flag
/// getter.
///
/// # Safety
/// As [`change`].
unsafe fn get_flag(
    publisher: *const otc_publisher,
    field: fn(&PublisherState) -> bool,
) -> Result<otc_bool> {
    unsafe { read(publisher, |s| to_otc_bool(field(s))) }
}

// ---- settings ---------------------------------------------------------------

/// Creates publisher settings with the defaults: no name, the default
/// camera capturer, audio and video tracks on, mono, Opus DTX off, automatic
/// gain control, noise suppression and echo cancellation on, medium camera
/// resolution, scalable screen-sharing off. Free with
/// `otc_publisher_settings_delete`; a publisher keeps its own copy.
#[no_mangle]
pub extern "C" fn otc_publisher_settings_new() -> *mut otc_publisher_settings {
    ffi!({ Ok(to_c(PublisherSettings::default())) })
}

/// Frees settings. Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for NULL.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new` and is not
/// used afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_delete(
    settings: *mut otc_publisher_settings,
) -> otc_status {
    ffi!({
        drop(unsafe { try_take(settings) }?);
        Ok(OTC_SUCCESS)
    })
}

/// Sets the name of the publisher (copied; NULL means no name). Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for NULL settings, as every
/// settings function does.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`; `name` is
/// NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_name(
    settings: *mut otc_publisher_settings,
    name: *const c_char,
) -> otc_status {
    ffi!({
        let name = unsafe { copy_opt_cstr(name) };
        unsafe { change_settings(settings, |s| s.name = name) }
    })
}

/// Sets custom capturer callbacks (copied; NULL means the default camera).
/// The publisher keeps them, but nothing captures in this library, so they
/// are never called.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`; `capturer`
/// is NULL or points to a valid struct.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_video_capturer(
    settings: *mut otc_publisher_settings,
    capturer: *const otc_video_capturer_callbacks,
) -> otc_status {
    ffi!({
        let capturer = unsafe { copy_opt(capturer) };
        unsafe { change_settings(settings, |s| s.capturer = capturer) }
    })
}

/// Whether the publisher has an audio track (default on). It is also the
/// publisher's initial `otc_publisher_get_publish_audio`.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_audio_track(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.audio_track = is_true(enabled)) } })
}

/// Whether the publisher has a video track (default on). It is also the
/// publisher's initial `otc_publisher_get_publish_video`.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_video_track(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.video_track = is_true(enabled)) } })
}

/// Whether audio would be captured in stereo (default off). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_stereo(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.stereo = is_true(enabled)) } })
}

/// Whether Opus DTX (no packets during silence) would be used (default
/// off). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_opus_dtx(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.opus_dtx = is_true(enabled)) } })
}

/// Whether automatic gain control would be applied to captured audio
/// (default on). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_auto_gain_control(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.auto_gain_control = is_true(enabled)) } })
}

/// Whether noise suppression would be applied to captured audio (default
/// on). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_noise_suppression(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.noise_suppression = is_true(enabled)) } })
}

/// Whether echo cancellation would be applied to captured audio (default
/// on). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_echo_cancellation(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.echo_cancellation = is_true(enabled)) } })
}

/// The resolution the default camera capturer would use (default
/// `OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM`). Stored only. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a value that is not an
/// `enum otc_camera_capture_resolution` member (nothing is changed).
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_default_camera_capture_resolution(
    settings: *mut otc_publisher_settings,
    camera_capture_resolution: otc_camera_capture_resolution_arg,
) -> otc_status {
    ffi!({
        let s = unsafe { try_mut(settings) }?;
        s.camera_capture_resolution = otc_camera_capture_resolution::from_arg(
            camera_capture_resolution,
            "camera_capture_resolution",
        )?;
        Ok(OTC_SUCCESS)
    })
}

/// Whether screen-sharing video would be sent in scalable layers (default
/// off). Stored only.
///
/// # Safety
/// `settings` is NULL or came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_settings_set_scalable_screenshare(
    settings: *mut otc_publisher_settings,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { change_settings(settings, |s| s.scalable_screenshare = is_true(enabled)) } })
}

// ---- the publisher ------------------------------------------------------------

/// Creates a publisher named `name` (copied; NULL means no name, read back
/// as ""), with custom capturer callbacks (copied; NULL means the default
/// camera) and its callbacks (copied; required). It can be configured and
/// read back, but not published in this library (see
/// `otc_session_publish`); no callback is ever called. Returns NULL (and
/// logs why) if `callbacks` is NULL. Free with `otc_publisher_delete`.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `capturer` and `callbacks` are NULL or
/// point to valid structs.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_new(
    name: *const c_char,
    capturer: *const otc_video_capturer_callbacks,
    callbacks: *const otc_publisher_callbacks,
) -> *mut otc_publisher {
    ffi!({
        let callbacks = unsafe { try_copy(callbacks, "callbacks") }?;
        let settings = PublisherSettings {
            name: unsafe { copy_opt_cstr(name) },
            capturer: unsafe { copy_opt(capturer) },
            ..PublisherSettings::default()
        };
        Ok(to_c(Publisher::new(callbacks, settings)))
    })
}

/// As `otc_publisher_new`, with the name, capturer and audio and video
/// options taken from `settings` (copied; NULL means the defaults of
/// `otc_publisher_settings_new`). Returns NULL (and logs why) if
/// `callbacks` is NULL.
///
/// # Safety
/// `callbacks` is NULL or points to a valid struct; `settings` is NULL or
/// came from `otc_publisher_settings_new`.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_new_with_settings(
    callbacks: *const otc_publisher_callbacks,
    settings: *mut otc_publisher_settings,
) -> *mut otc_publisher {
    ffi!({
        let callbacks = unsafe { try_copy(callbacks, "callbacks") }?;
        let settings = if settings.is_null() {
            PublisherSettings::default()
        } else {
            unsafe { try_ref(settings) }?.clone()
        };
        Ok(to_c(Publisher::new(callbacks, settings)))
    })
}

/// Frees a publisher (never published here, so there is nothing to stop).
/// Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for NULL.
///
/// # Safety
/// `publisher` is NULL or came from `otc_publisher_new*` and is not used
/// afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_delete(publisher: *mut otc_publisher) -> otc_status {
    ffi!({
        drop(unsafe { try_take(publisher) }?);
        Ok(OTC_SUCCESS)
    })
}

/// The publisher's stream: always NULL here, since a publisher is never
/// published (NULL is logged as an error only for a NULL `publisher`).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_stream(
    publisher: *mut otc_publisher,
) -> *mut otc_stream {
    ffi!({
        unsafe { try_ref(publisher) }?;
        Ok(std::ptr::null_mut())
    })
}

/// Sets whether the publisher sends video (stored; initially the settings'
/// video track). Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a NULL
/// `publisher`, as every publisher function does.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_publish_video(
    publisher: *mut otc_publisher,
    publish_video: otc_bool,
) -> otc_status {
    ffi!({ unsafe { set_flag(publisher, |s| &mut s.publish_video, publish_video) } })
}

/// Sets whether the publisher sends audio (stored; initially the settings'
/// audio track).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_publish_audio(
    publisher: *mut otc_publisher,
    publish_audio: otc_bool,
) -> otc_status {
    ffi!({ unsafe { set_flag(publisher, |s| &mut s.publish_audio, publish_audio) } })
}

/// Whether the publisher sends video, as last set; `OTC_FALSE` for a NULL
/// `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_publish_video(
    publisher: *const otc_publisher,
) -> otc_bool {
    ffi!(or OTC_FALSE, { unsafe { get_flag(publisher, |s| s.publish_video) } })
}

/// Whether the publisher sends audio, as last set; `OTC_FALSE` for a NULL
/// `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_publish_audio(
    publisher: *const otc_publisher,
) -> otc_bool {
    ffi!(or OTC_FALSE, { unsafe { get_flag(publisher, |s| s.publish_audio) } })
}

/// The session the publisher is published in: always NULL here, since a
/// publisher is never published (NULL is logged as an error only for a NULL
/// `publisher`).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_session(
    publisher: *const otc_publisher,
) -> *mut otc_session {
    ffi!({
        unsafe { try_ref(publisher) }?;
        Ok(std::ptr::null_mut())
    })
}

/// Sets the maximum audio bitrate, in bits per second, from 6,000 to
/// 510,000 (stored only). Returns `OTC_SESSION_NULL_OR_INVALID_PARAMETER`
/// for a value outside that range (nothing is changed).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_max_audio_bitrate(
    publisher: *mut otc_publisher,
    bitrate: u32,
) -> otc_status {
    ffi!({
        unsafe {
            change(publisher, |s| {
                in_range(bitrate, &AUDIO_BITRATE_RANGE, "audio bitrate")?;
                s.max_audio_bitrate = Some(bitrate);
                Ok(())
            })
        }
    })
}

/// Would set the callback that receives RTC statistics reports. They need
/// media: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the
/// arguments are (they are not read; `cb` is never called).
#[no_mangle]
pub extern "C" fn otc_publisher_set_rtc_stats_report_cb(
    publisher: *mut otc_publisher,
    cb: otc_publisher_rtc_stats_report_cb,
) -> otc_status {
    let _ = (publisher, cb);
    no_media!()
}

/// Would request an RTC statistics report. It needs media: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `publisher` is (it is
/// not read).
#[no_mangle]
pub extern "C" fn otc_publisher_get_rtc_stats_report(
    publisher: *const otc_publisher,
) -> otc_status {
    let _ = publisher;
    no_media!()
}

/// Sets whether subscribers to this publisher's stream fall back to audio
/// only when their link is poor (stored; initially `OTC_TRUE`, the SDK's
/// default for camera video).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_audio_fallback_enabled(
    publisher: *mut otc_publisher,
    enabled: otc_bool,
) -> otc_status {
    ffi!({ unsafe { set_flag(publisher, |s| &mut s.audio_fallback, enabled) } })
}

/// Whether audio fallback is enabled, as last set; `OTC_FALSE` for a NULL
/// `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_audio_fallback_enabled(
    publisher: *const otc_publisher,
) -> otc_bool {
    ffi!(or OTC_FALSE, { unsafe { get_flag(publisher, |s| s.audio_fallback) } })
}

/// The publisher's id, a random string fixed when it was created (valid as
/// long as the publisher), or NULL for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_publisher_id(
    publisher: *const otc_publisher,
) -> *const c_char {
    ffi!({ Ok(unsafe { try_ref(publisher) }?.id.as_ptr()) })
}

/// Sets what the publisher's video shows (stored; initially
/// `OTC_PUBLISHER_VIDEO_TYPE_CAMERA`). Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a value that is not an
/// `enum otc_publisher_video_type` member (nothing is changed).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_video_type(
    publisher: *mut otc_publisher,
    video_type: otc_publisher_video_type_arg,
) -> otc_status {
    ffi!({
        unsafe {
            change(publisher, |s| {
                s.video_type = otc_publisher_video_type::from_arg(video_type, "video_type")?;
                Ok(())
            })
        }
    })
}

/// The publisher's video type, as last set;
/// `OTC_PUBLISHER_VIDEO_TYPE_CAMERA` for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_video_type(
    publisher: *const otc_publisher,
) -> otc_publisher_video_type {
    ffi!(or otc_publisher_video_type::OTC_PUBLISHER_VIDEO_TYPE_CAMERA, {
        unsafe { read(publisher, |s| s.video_type) }
    })
}

/// The `user_data` of the callbacks the publisher was created with, or NULL
/// for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_user_data(
    publisher: *const otc_publisher,
) -> *mut c_void {
    ffi!({ Ok(unsafe { try_ref(publisher) }?.callbacks.user_data) })
}

/// The publisher's name ("" if it was given none; valid as long as the
/// publisher), or NULL for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_name(publisher: *const otc_publisher) -> *const c_char {
    ffi!({ Ok(unsafe { try_ref(publisher) }?.name.as_ptr()) })
}

/// Sets whether the publisher's audio would be transcribed into captions
/// (stored; initially off).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_publish_captions(
    publisher: *mut otc_publisher,
    publish_captions: otc_bool,
) -> otc_status {
    ffi!({ unsafe { set_flag(publisher, |s| &mut s.publish_captions, publish_captions) } })
}

/// Whether captions are published, as last set; `OTC_FALSE` for a NULL
/// `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_publish_captions(
    publisher: *const otc_publisher,
) -> otc_bool {
    ffi!(or OTC_FALSE, { unsafe { get_flag(publisher, |s| s.publish_captions) } })
}

/// Would apply video transformers to the captured video. Nothing is
/// captured here (and no transformer can be created): returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the arguments are
/// (they are not read).
#[no_mangle]
pub extern "C" fn otc_publisher_set_video_transformers(
    publisher: *mut otc_publisher,
    video_transformers: *mut *mut otc_video_transformer,
    num_transformers: usize,
) -> otc_status {
    let _ = (publisher, video_transformers, num_transformers);
    no_media!()
}

/// Would apply audio transformers to the captured audio. Nothing is
/// captured here (and no transformer can be created): returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever the arguments are
/// (they are not read).
#[no_mangle]
pub extern "C" fn otc_publisher_set_audio_transformers(
    publisher: *mut otc_publisher,
    audio_transformers: *mut *mut otc_audio_transformer,
    num_transformers: usize,
) -> otc_status {
    let _ = (publisher, audio_transformers, num_transformers);
    no_media!()
}

/// Chooses a video bitrate preset (stored; initially
/// `OTC_VIDEO_BITRATE_PRESET_DEFAULT`), which clears a maximum set with
/// `otc_publisher_set_max_video_bitrate`. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for
/// `OTC_VIDEO_BITRATE_PRESET_CUSTOM` (set a maximum bitrate instead) and for
/// a value that is not an `enum otc_video_bitrate_preset` member (nothing is
/// changed).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_video_bitrate_preset(
    publisher: *mut otc_publisher,
    preset: otc_video_bitrate_preset_arg,
) -> otc_status {
    ffi!({
        unsafe {
            change(publisher, |s| {
                let preset = otc_video_bitrate_preset::from_arg(preset, "preset")?;
                if preset == otc_video_bitrate_preset::OTC_VIDEO_BITRATE_PRESET_CUSTOM {
                    return Err(Error::invalid(
                        "OTC_VIDEO_BITRATE_PRESET_CUSTOM cannot be set: set a maximum video \
                         bitrate instead",
                    ));
                }
                s.bitrate_preset = preset;
                s.max_video_bitrate = 0;
                Ok(())
            })
        }
    })
}

/// The video bitrate preset, as last set (`OTC_VIDEO_BITRATE_PRESET_CUSTOM`
/// after `otc_publisher_set_max_video_bitrate`);
/// `OTC_VIDEO_BITRATE_PRESET_DEFAULT` for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_video_bitrate_preset(
    publisher: *const otc_publisher,
) -> otc_video_bitrate_preset {
    ffi!(or otc_video_bitrate_preset::OTC_VIDEO_BITRATE_PRESET_DEFAULT, {
        unsafe { read(publisher, |s| s.bitrate_preset) }
    })
}

/// Sets the maximum video bitrate, in bits per second, from 5,000 to
/// 10,000,000 (stored only); the preset becomes
/// `OTC_VIDEO_BITRATE_PRESET_CUSTOM`. Returns
/// `OTC_SESSION_NULL_OR_INVALID_PARAMETER` for a value outside that range
/// (nothing is changed).
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_set_max_video_bitrate(
    publisher: *mut otc_publisher,
    bitrate: u32,
) -> otc_status {
    ffi!({
        unsafe {
            change(publisher, |s| {
                in_range(bitrate, &VIDEO_BITRATE_RANGE, "video bitrate")?;
                s.max_video_bitrate = bitrate;
                s.bitrate_preset = otc_video_bitrate_preset::OTC_VIDEO_BITRATE_PRESET_CUSTOM;
                Ok(())
            })
        }
    })
}

/// The maximum video bitrate set with `otc_publisher_set_max_video_bitrate`,
/// or 0 if none is (a preset is in use); 0 for a NULL `publisher`.
///
/// # Safety
/// `publisher` is NULL or a live publisher of this library.
#[no_mangle]
pub unsafe extern "C" fn otc_publisher_get_max_video_bitrate(
    publisher: *const otc_publisher,
) -> u32 {
    ffi!(or 0, { unsafe { read(publisher, |s| s.max_video_bitrate) } })
}

/// Refuses a bitrate outside `range`.
fn in_range(bitrate: u32, range: &std::ops::RangeInclusive<u32>, what: &str) -> Result<()> {
    if range.contains(&bitrate) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} {bitrate} is outside {}..={} bits per second",
            range.start(),
            range.end()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publisher_ids_are_distinct_and_uuid_shaped() {
        let (a, b) = (new_publisher_id(), new_publisher_id());
        assert_ne!(a, b);
        let a = a.to_str().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn a_publisher_keeps_copies_of_what_it_was_given() {
        let marker = 5u8;
        let ud = &marker as *const u8 as *mut c_void;
        // The caller's structs and name are gone once the publisher exists.
        let p = {
            // SAFETY: all-zero is a valid value of these C structs.
            let mut capturer: otc_video_capturer_callbacks = unsafe { std::mem::zeroed() };
            let mut callbacks: otc_publisher_callbacks = unsafe { std::mem::zeroed() };
            capturer.user_data = ud;
            callbacks.user_data = ud;
            let name = CString::new("n").unwrap();
            unsafe { otc_publisher_new(name.as_ptr(), &capturer, &callbacks) }
        };
        let kept = unsafe { try_ref(p) }.unwrap();
        assert_eq!(kept.capturer().map(|c| c.user_data), Some(ud));
        assert_eq!(kept.callbacks.user_data, ud);
        assert_eq!(kept.name.to_str().unwrap(), "n");
        assert_eq!(unsafe { otc_publisher_delete(p) }, OTC_SUCCESS);
    }

    #[test]
    fn enum_arguments_outside_the_enum_are_refused() {
        assert!(otc_publisher_video_type::from_arg(0, "t").is_err());
        assert_eq!(
            otc_publisher_video_type::from_arg(2, "t").unwrap(),
            otc_publisher_video_type::OTC_PUBLISHER_VIDEO_TYPE_SCREEN
        );
        assert!(otc_video_bitrate_preset::from_arg(-1, "p").is_err());
        assert!(otc_camera_capture_resolution::from_arg(4, "r").is_err());
    }
}
