//! audio_data.h: one block of audio samples.
//!
//! The SDK hands these to `on_audio_data` (subscribers) and to audio
//! transformers; neither is ever called here, so the struct exists for the
//! header's sake only.

use std::ffi::{c_int, c_void};

/// A block of audio samples, as in the Vonage SDK. (The SDK declares every
/// field `const`; the layout is the same.)
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct otc_audio_data {
    /// The samples.
    pub sample_buffer: *const c_void,
    /// Bits in one sample.
    pub bits_per_sample: c_int,
    /// Samples per second.
    pub sample_rate: c_int,
    /// Interleaved channels.
    pub number_of_channels: usize,
    /// Samples per channel in `sample_buffer`.
    pub number_of_samples: usize,
}
