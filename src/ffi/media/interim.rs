//! A type of another header that the media headers name, declared here only
//! until its own module declares it: `otc_video_frame` (video_frame.h,
//! `src/ffi/video_frame.rs`). Then delete this file and its two lines in
//! `media/mod.rs`; nothing else changes.

/// A video frame (video_frame.h). Named here by the render callbacks and
/// `otc_video_capturer_provide_frame`; no frame ever reaches them in this
/// library.
pub struct otc_video_frame {
    _private: [u8; 0],
}
