//! The C ABI of libopentok, and nothing else.
//!
//! One file per C object, named after the SDK header that declares it
//! (`session`, `settings`, `connection`, `log_api`, `init`, `video_frame`,
//! ...), plus `types` for the scalars, enums and structs the header shares.
//! Functions that need the media engine live apart, in [`media`].
//!
//! Two small modules hold everything the bodies have in common:
//! - [`boundary`]: the `ffi!` macro that every body is written in (panics
//!   stopped, errors logged under the function's own name, the SDK's failure
//!   value returned) and `no_media!` for the media functions;
//! - [`castable`]: C pointers back to Rust values, each opaque C type tied to
//!   its Rust type by the `Castable` trait, NULL refused with 1011.
#![allow(non_camel_case_types)]

pub(crate) mod boundary;
pub(crate) mod castable;

pub mod connection;
pub mod init;
pub mod log_api;
pub mod media;
pub mod session;
pub mod settings;
pub mod types;
pub mod video_frame;

pub use connection::*;
pub use init::*;
pub use log_api::*;
pub use media::*;
pub use session::*;
pub use settings::*;
pub use types::*;
pub use video_frame::*;

use crate::error::Result;

/// `Ok(())` as `OTC_SUCCESS`, for bodies that return a status.
pub(crate) fn success(r: Result<()>) -> Result<otc_status> {
    r.map(|()| OTC_SUCCESS)
}
