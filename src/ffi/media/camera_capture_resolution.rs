//! camera_capture_resolution.h: the resolutions a publisher's default
//! camera capturer may be asked for.

use std::ffi::c_int;

use super::c_enum;

/// Capture resolution of the default camera capturer, as in the Vonage SDK.
/// Stored by `otc_publisher_settings_set_default_camera_capture_resolution`;
/// no camera is ever opened in this library.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_camera_capture_resolution {
    OTC_CAMERA_CAPTURE_RESOLUTION_LOW = 0,
    OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM = 1,
    OTC_CAMERA_CAPTURE_RESOLUTION_HIGH = 2,
    OTC_CAMERA_CAPTURE_RESOLUTION_1080P = 3,
}

c_enum! {
    otc_camera_capture_resolution {
        OTC_CAMERA_CAPTURE_RESOLUTION_LOW,
        OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM,
        OTC_CAMERA_CAPTURE_RESOLUTION_HIGH,
        OTC_CAMERA_CAPTURE_RESOLUTION_1080P,
    }
}

/// Rust-side stand-in for `enum otc_camera_capture_resolution` received
/// from C (the header spells it `enum otc_camera_capture_resolution`).
pub type otc_camera_capture_resolution_arg = c_int;
