//! The media headers of the SDK, one file each: publishers, subscribers,
//! streams, audio and video devices, media utilities and transformers, and
//! the media functions of `session.h` (`session_media`).
//!
//! This library has no media engine, so the rule for all of them is: state
//! an SDK object merely holds is real, and anything that would capture,
//! publish, subscribe to, render, measure or transform media fails.
//!
//! - A publisher is a real object (`otc_publisher_new` succeeds, its
//!   settings and flags are stored and read back), but publishing it fails
//!   with `OT_UNABLE_TO_ACCESS_MEDIA_ENGINE` (5000).
//! - Streams and subscribers never exist: no `on_stream_*` callback is ever
//!   called, `otc_subscriber_new` returns NULL, and every stream or
//!   subscriber function fails without looking at its pointer.
//! - Devices, capturers, codecs and transformers fail (5000, NULL, `0`,
//!   `OTC_FALSE`, whatever the SDK's failure value for the return type is).
//!
//! Each of those failures is logged once per function (at warning level,
//! while logging is enabled), naming the function; see `no_media!`.
//!
//! Enum parameters that C passes in are plain `c_int`s here (the `*_arg`
//! aliases, which the header spells `enum otc_...`), checked with
//! `CEnum::from_arg`, so an out-of-range value is refused with
//! `OTC_SESSION_NULL_OR_INVALID_PARAMETER` and never becomes a Rust enum.

pub mod audio_data;
pub mod audio_device;
pub mod audio_module;
pub mod camera_capture_resolution;
pub mod media_transformer;
pub mod media_utils;
pub mod publisher;
pub mod session_media;
pub mod stream;
pub mod subscriber;
pub mod video_capturer;

pub use audio_data::*;
pub use audio_device::*;
pub use audio_module::*;
pub use camera_capture_resolution::*;
pub use media_transformer::*;
pub use media_utils::*;
pub use publisher::*;
pub use session_media::*;
pub use stream::*;
pub use subscriber::*;
pub use video_capturer::*;

use std::ffi::c_int;

/// The frame type of video_frame.h (src/ffi/video_frame.rs), which the
/// render callbacks, capturers and transformers name.
use super::video_frame::otc_video_frame;

use crate::error::{Error, Result};

/// A C enum whose values arrive from C as plain `int`s.
pub(crate) trait CEnum: Copy + Sized + 'static {
    /// The C name, for error messages.
    const NAME: &'static str;
    /// Every member.
    const MEMBERS: &'static [Self];
    /// The member's value.
    fn value(self) -> c_int;

    /// The member whose value is `v`; any other value is refused with
    /// `OTC_SESSION_NULL_OR_INVALID_PARAMETER`.
    fn from_arg(v: c_int, what: &str) -> Result<Self> {
        Self::MEMBERS
            .iter()
            .copied()
            .find(|m| m.value() == v)
            .ok_or_else(|| Error::invalid(format!("{what} {v} is not an enum {}", Self::NAME)))
    }
}

/// Implements [`CEnum`] for fieldless `#[repr(C)]` enums, listing members.
macro_rules! c_enum {
    ($($t:ident { $($m:ident),+ $(,)? })+) => {$(
        impl $crate::ffi::media::CEnum for $t {
            const NAME: &'static str = stringify!($t);
            const MEMBERS: &'static [Self] = &[$($t::$m),+];
            fn value(self) -> std::ffi::c_int {
                self as std::ffi::c_int
            }
        }
    )+};
}
pub(crate) use c_enum;

/// An `otc_bool` as a Rust `bool` (any non-zero value is true, as in C).
pub(crate) fn is_true(b: super::otc_bool) -> bool {
    b != super::OTC_FALSE
}

/// A Rust `bool` as an `otc_bool`.
pub(crate) fn to_otc_bool(b: bool) -> super::otc_bool {
    if b {
        super::OTC_TRUE
    } else {
        super::OTC_FALSE
    }
}
