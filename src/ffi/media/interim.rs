//! Types of other headers that the media headers name, declared here only
//! until the modules that own them declare them: `otc_video_frame`
//! (video_frame.h, `src/ffi/video_frame.rs`) and `enum otc_video_reason`
//! (base.h, `src/ffi/types.rs`). When those modules declare them, delete
//! this file and its two lines in `media/mod.rs`; nothing else changes.

/// A video frame (video_frame.h). Named here by the render callbacks and
/// `otc_video_capturer_provide_frame`; no frame ever reaches them in this
/// library.
pub struct otc_video_frame {
    _private: [u8; 0],
}

/// Why video was disabled or enabled, as in the Vonage SDK (base.h). Named
/// by the publisher and subscriber video callbacks, which are never called
/// in this library.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_reason {
    OTC_VIDEO_REASON_PUBLISH_VIDEO = 1,
    OTC_VIDEO_REASON_SUBSCRIBE_TO_VIDEO = 2,
    OTC_VIDEO_REASON_QUALITY = 3,
    OTC_VIDEO_REASON_CODEC_NOT_SUPPORTED = 4,
}
