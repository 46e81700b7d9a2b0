//! media_utils.h: the video codecs the media engine supports.
//!
//! There is no media engine here, hence no codec: both functions fail with
//! `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000), logging once per function,
//! without reading their arguments.

// The functions fail without reading their arguments.
#![allow(unused_variables)]

use crate::ffi::boundary::no_media;
use crate::ffi::otc_status;

/// Video codecs, as in the Vonage SDK.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_codec_type {
    OTC_VIDEO_CODEC_VP8 = 1,
    OTC_VIDEO_CODEC_H264 = 2,
}

/// The codecs the media engine can encode and decode, as in the Vonage
/// SDK. Never filled in here.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct otc_media_utils_codecs {
    pub number_encoder_video_codecs: usize,
    pub encoder_video_codecs: *mut otc_video_codec_type,
    pub number_decoder_video_codecs: usize,
    pub decoder_video_codecs: *mut otc_video_codec_type,
}

/// Would store in `*supported_codecs` a new list of the supported codecs.
/// There is no media engine here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE`
/// (5000) and writes nothing, whatever `supported_codecs` is (it is not
/// read).
#[no_mangle]
pub extern "C" fn otc_media_utils_get_supported_codecs(
    supported_codecs: *mut *mut otc_media_utils_codecs,
) -> otc_status {
    no_media!()
}

/// Would free a list from `otc_media_utils_get_supported_codecs`. None can
/// exist here: returns `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000) whatever
/// `supported_codecs` is (it is not read).
#[no_mangle]
pub extern "C" fn otc_media_utils_codecs_delete(
    supported_codecs: *mut otc_media_utils_codecs,
) -> otc_status {
    no_media!()
}
