//! audio_module_input_device.h and audio_module_output_device.h: listing
//! and choosing the microphones and speakers of the SDK's audio module.
//!
//! This library has no audio module, so there is nothing to list or
//! choose: `*_enumerator_new` returns NULL, the other functions fail with
//! the SDK's failure value for their return type (0 devices, NULL, or
//! `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE`), logging once per function, without
//! reading their arguments (no enumerator pointer can be valid).

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use std::ffi::{c_char, c_int};

use crate::ffi::boundary::no_media;
use crate::ffi::otc_status;

/// A list of audio input devices. None is ever created here.
pub struct otc_audio_module_input_device_enumerator {
    _private: [u8; 0],
}

/// A list of audio output devices. None is ever created here.
pub struct otc_audio_module_output_device_enumerator {
    _private: [u8; 0],
}

/// Would list the audio input devices. There is no audio module here:
/// returns NULL.
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_enumerator_new(
) -> *mut otc_audio_module_input_device_enumerator {
    no_media!()
}

/// Would return the number of devices listed. Returns 0 whatever
/// `device_enumerator` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_enumerator_size(
    device_enumerator: *mut otc_audio_module_input_device_enumerator,
) -> c_int {
    no_media!(or 0)
}

/// Would return the id of a listed device. Returns NULL whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_enumerator_get_device_id(
    device_enumerator: *mut otc_audio_module_input_device_enumerator,
    device_index: c_int,
) -> *const c_char {
    no_media!()
}

/// Would return the name of a listed device. Returns NULL whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_enumerator_get_device_name(
    device_enumerator: *mut otc_audio_module_input_device_enumerator,
    device_index: c_int,
) -> *const c_char {
    no_media!()
}

/// Would free a device list. None can exist here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `device_enumerator`
/// is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_enumerator_delete(
    device_enumerator: *mut otc_audio_module_input_device_enumerator,
) -> otc_status {
    no_media!()
}

/// Would make the device with this id the microphone. There is no audio
/// module here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// `device_id` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_input_device_select(device_id: *const c_char) -> otc_status {
    no_media!()
}

/// Would list the audio output devices. There is no audio module here:
/// returns NULL.
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_enumerator_new(
) -> *mut otc_audio_module_output_device_enumerator {
    no_media!()
}

/// Would return the number of devices listed. Returns 0 whatever
/// `device_enumerator` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_enumerator_size(
    device_enumerator: *mut otc_audio_module_output_device_enumerator,
) -> c_int {
    no_media!(or 0)
}

/// Would return the id of a listed device. Returns NULL whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_enumerator_get_device_id(
    device_enumerator: *mut otc_audio_module_output_device_enumerator,
    device_index: c_int,
) -> *const c_char {
    no_media!()
}

/// Would return the name of a listed device. Returns NULL whatever the
/// arguments are (they are not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_enumerator_get_device_name(
    device_enumerator: *mut otc_audio_module_output_device_enumerator,
    device_index: c_int,
) -> *const c_char {
    no_media!()
}

/// Would free a device list. None can exist here: returns
/// `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever `device_enumerator`
/// is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_enumerator_delete(
    device_enumerator: *mut otc_audio_module_output_device_enumerator,
) -> otc_status {
    no_media!()
}

/// Would make the device with this id the speaker. There is no audio module
/// here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// `device_id` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_audio_module_output_device_select(device_id: *const c_char) -> otc_status {
    no_media!()
}
