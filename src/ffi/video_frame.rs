//! `otc_video_frame_*`: the SDK's `video_frame.h`, over
//! [`crate::video_frame`]. Frames are plain memory here: every function
//! works without a media engine.
//!
//! Enum arguments arrive as `int` ([`otc_video_frame_format_arg`],
//! [`otc_video_frame_plane_arg`]; the header still says
//! `enum otc_video_frame_format` / `enum otc_video_frame_plane`), so a value
//! outside the enum is refused with a log line instead of becoming an
//! invalid Rust enum.

use std::ffi::{c_int, c_void};

use super::boundary::ffi;
use super::castable::{castable, to_c, try_mut, try_ref, try_take};
use super::{otc_bool, otc_status, OTC_FALSE, OTC_SUCCESS, OTC_TRUE};
use crate::error::{Error, Result};
use crate::video_frame::{
    dimension, Format, Release, VideoFrame, MAX_PLANE_BYTES, METADATA_MAX_SIZE,
};

/// A video frame: a pixel format, a size, one to three planes of pixels (or
/// one buffer of encoded data), a timestamp and up to
/// `OTC_VIDEO_FRAME_METADATA_MAX_SIZE` bytes of metadata. Frames returned by
/// this library are freed with `otc_video_frame_delete`.
pub struct otc_video_frame {
    _private: [u8; 0],
}

castable!(otc_video_frame => VideoFrame);

/// The most bytes of metadata a frame holds (see
/// `otc_video_frame_set_metadata`).
pub const OTC_VIDEO_FRAME_METADATA_MAX_SIZE: usize = 32;

/// Pixel formats, with the Vonage SDK's values.
///
/// The 32-bit RGB names follow libyuv (as the SDK does): read the name as
/// the channels of a little-endian 32-bit word from the most significant
/// byte down, so the bytes in memory come in the reverse order:
/// `ARGB32` is B,G,R,A in memory, `BGRA32` is A,R,G,B, `ABGR32` is R,G,B,A,
/// `RGBA32` is A,B,G,R, and `RGB24` is B,G,R. YUV conversions use BT.601
/// with limited range (Y 16..235), as libyuv does by default.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum otc_video_frame_format {
    /// Not a format a frame can have; the failure value of
    /// `otc_video_frame_get_format`.
    OTC_VIDEO_FRAME_FORMAT_UNKNOWN = 0,
    /// Planar YUV 4:2:0 (I420): Y plane, then U and V planes of half the
    /// width and height (rounded up).
    OTC_VIDEO_FRAME_FORMAT_YUV420P = 1,
    /// Y plane, then one plane of interleaved U,V byte pairs.
    OTC_VIDEO_FRAME_FORMAT_NV12 = 2,
    /// Y plane, then one plane of interleaved V,U byte pairs.
    OTC_VIDEO_FRAME_FORMAT_NV21 = 3,
    /// Packed YUV 4:2:2, bytes Y0 U Y1 V for each pair of pixels.
    OTC_VIDEO_FRAME_FORMAT_YUY2 = 4,
    /// Packed YUV 4:2:2, bytes U Y0 V Y1 for each pair of pixels.
    OTC_VIDEO_FRAME_FORMAT_UYVY = 5,
    /// 4 bytes a pixel: B, G, R, A in memory.
    OTC_VIDEO_FRAME_FORMAT_ARGB32 = 6,
    /// 4 bytes a pixel: A, R, G, B in memory.
    OTC_VIDEO_FRAME_FORMAT_BGRA32 = 7,
    /// 3 bytes a pixel: B, G, R in memory.
    OTC_VIDEO_FRAME_FORMAT_RGB24 = 8,
    /// 4 bytes a pixel: R, G, B, A in memory.
    OTC_VIDEO_FRAME_FORMAT_ABGR32 = 9,
    /// Motion-JPEG data (opaque here: never decoded or converted).
    OTC_VIDEO_FRAME_FORMAT_MJPEG = 10,
    /// 4 bytes a pixel: A, B, G, R in memory.
    OTC_VIDEO_FRAME_FORMAT_RGBA32 = 11,
    /// One past the last pixel format; not a format a frame can have.
    OTC_VIDEO_FRAME_FORMAT_MAX = 12,
    /// Encoded video data (opaque here: never decoded or converted).
    OTC_VIDEO_FRAME_FORMAT_COMPRESSED = 255,
}

/// Rust-side stand-in for `enum otc_video_frame_format` received from C
/// (the header spells it `enum otc_video_frame_format`).
pub type otc_video_frame_format_arg = c_int;

/// Rust-side stand-in for `enum otc_video_frame_plane` received from C (the
/// header spells it `enum otc_video_frame_plane`). The enum itself is
/// written in cbindgen.toml: it names plane 0 `Y` and `PACKED`, plane 1 `U`,
/// `UV_INTERLEAVED` and `VU_INTERLEAVED`, plane 2 `V`, which a Rust enum
/// cannot.
pub type otc_video_frame_plane_arg = c_int;

/// The functions behind a frame made by
/// `otc_video_frame_new_planar_memory_wrapper`. The library copies this
/// struct, so it need not outlive that call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct otc_video_frame_planar_memory_callbacks {
    /// Required. Returns the first byte of `plane`; called once for each of
    /// the format's planes while the frame is made.
    pub get_plane: Option<
        unsafe extern "C" fn(user_data: *mut c_void, plane: otc_video_frame_plane_arg) -> *const u8,
    >,
    /// Returns the stride of `plane` in bytes; called once for each plane
    /// while the frame is made. When NULL, the planes have the tightest
    /// strides (the row size of the format).
    pub get_plane_stride: Option<
        unsafe extern "C" fn(user_data: *mut c_void, plane: otc_video_frame_plane_arg) -> c_int,
    >,
    /// Optional. Called once, on the thread that deletes it, when the frame
    /// and all the copies sharing its memory are deleted: the memory may be
    /// freed then. Not called when the frame could not be made.
    pub release: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// Passed to each function above.
    pub user_data: *mut c_void,
    /// Reserved; set to NULL.
    pub reserved: *mut c_void,
}

/// Told that the buffer given to `otc_video_frame_new_contiguous_memory_wrapper`
/// is no longer used (the frame and all copies sharing it were deleted):
/// `buffer` is that buffer, `arg` the pointer given with it. Called once, on
/// the thread that deleted the last frame using it.
pub type otc_video_frame_memory_release_callback =
    Option<unsafe extern "C" fn(buffer: *const u8, arg: *mut c_void)>;

fn format_arg(v: otc_video_frame_format_arg) -> Result<Format> {
    Format::from_sdk(v).ok_or_else(|| match v {
        0 => Error::invalid("OTC_VIDEO_FRAME_FORMAT_UNKNOWN is not a format a frame can have"),
        12 => Error::invalid("OTC_VIDEO_FRAME_FORMAT_MAX is not a format a frame can have"),
        _ => Error::invalid(format!("{v} is not an enum otc_video_frame_format value")),
    })
}

fn format_out(f: Format) -> otc_video_frame_format {
    use otc_video_frame_format::*;
    match f {
        Format::I420 => OTC_VIDEO_FRAME_FORMAT_YUV420P,
        Format::Nv12 => OTC_VIDEO_FRAME_FORMAT_NV12,
        Format::Nv21 => OTC_VIDEO_FRAME_FORMAT_NV21,
        Format::Yuy2 => OTC_VIDEO_FRAME_FORMAT_YUY2,
        Format::Uyvy => OTC_VIDEO_FRAME_FORMAT_UYVY,
        Format::Argb32 => OTC_VIDEO_FRAME_FORMAT_ARGB32,
        Format::Bgra32 => OTC_VIDEO_FRAME_FORMAT_BGRA32,
        Format::Rgb24 => OTC_VIDEO_FRAME_FORMAT_RGB24,
        Format::Abgr32 => OTC_VIDEO_FRAME_FORMAT_ABGR32,
        Format::Mjpeg => OTC_VIDEO_FRAME_FORMAT_MJPEG,
        Format::Rgba32 => OTC_VIDEO_FRAME_FORMAT_RGBA32,
        Format::Compressed => OTC_VIDEO_FRAME_FORMAT_COMPRESSED,
    }
}

fn plane_arg(v: otc_video_frame_plane_arg) -> Result<usize> {
    match v {
        0..=2 => Ok(v as usize),
        _ => Err(Error::invalid(format!(
            "{v} is not an enum otc_video_frame_plane value"
        ))),
    }
}

fn check_null<T>(p: *const T, what: &str) -> Result<()> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    Ok(())
}

/// Reads the format's planes and strides from C arrays.
///
/// # Safety
/// `planes` and `strides` are NULL or hold `format.plane_count()` entries.
unsafe fn plane_arrays(
    format: Format,
    planes: *const *const u8,
    strides: *const c_int,
) -> Result<(Vec<*const u8>, Vec<i64>)> {
    check_null(planes, "planes")?;
    check_null(strides, "strides")?;
    let n = format.plane_count();
    // SAFETY: caller's contract.
    let (p, s) = unsafe {
        (
            std::slice::from_raw_parts(planes, n),
            std::slice::from_raw_parts(strides, n),
        )
    };
    Ok((p.to_vec(), s.iter().map(|&v| i64::from(v)).collect()))
}

/// Hands a caller's release function (and what it is given) to whichever
/// thread drops the last frame using the memory, as the SDK does.
struct CallOnRelease<F: FnOnce()>(F);

// SAFETY: the wrapped closure only holds the C function and the pointers the
// caller gave for it, which the caller allows to be used from any thread.
unsafe impl<F: FnOnce()> Send for CallOnRelease<F> {}

impl<F: FnOnce() + 'static> CallOnRelease<F> {
    fn boxed(f: F) -> Release {
        let c = CallOnRelease(f);
        Box::new(move || c.run())
    }

    fn run(self) {
        (self.0)()
    }
}

/// A new frame holding a copy of `buffer`, which must hold a whole frame of
/// `format` with the tightest strides: for YUV420P a `width` x `height` Y
/// plane followed by U and V planes of `(width + 1) / 2` x `(height + 1) / 2`;
/// for NV12/NV21 the Y plane and `(height + 1) / 2` rows of
/// `2 * ((width + 1) / 2)` bytes; for YUY2/UYVY `height` rows of
/// `4 * ((width + 1) / 2)` bytes; for RGB formats `height` rows of 4 (RGB24:
/// 3) bytes a pixel. The library cannot check the buffer's size.
///
/// Returns NULL (and logs why) when `buffer` is NULL, `format` is not a
/// pixel format (UNKNOWN, MAX, a value outside the enum; MJPEG and
/// COMPRESSED need a size: use `otc_video_frame_new_MJPEG` /
/// `otc_video_frame_new_compressed`), or `width` or `height` is not in
/// 1..16384.
///
/// # Safety
/// `buffer` is NULL or readable for the frame's size.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new(
    format: otc_video_frame_format_arg,
    width: c_int,
    height: c_int,
    buffer: *const u8,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(format)?;
        check_null(buffer, "buffer")?;
        if format.is_compressed() {
            return Err(Error::invalid(format!(
                "a {format} frame needs its size: use otc_video_frame_new_MJPEG or \
                 otc_video_frame_new_compressed"
            )));
        }
        let (w, h) = dims(width, height)?;
        // SAFETY: caller's contract: the buffer holds the frame's size.
        let data = unsafe { std::slice::from_raw_parts(buffer, format.frame_size(w, h)) };
        Ok(to_c(VideoFrame::from_contiguous(
            format, width, height, data,
        )?))
    })
}

/// Width and height checked (so a size can be computed before reading).
fn dims(width: c_int, height: c_int) -> Result<(u32, u32)> {
    Ok((dimension("width", width)?, dimension("height", height)?))
}

/// Frees a frame made by this library (a constructor, a copy or a
/// conversion). Memory lent to a wrapper frame is released (its callback
/// called) once the last frame sharing it is deleted.
///
/// Returns `OTC_SUCCESS`, or `OTC_SESSION_NULL_OR_INVALID_PARAMETER` when
/// `frame` is NULL.
///
/// # Safety
/// `frame` is NULL or a frame from this library, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_delete(frame: *mut otc_video_frame) -> otc_status {
    ffi!({
        drop(unsafe { try_take(frame) }?);
        Ok(OTC_SUCCESS)
    })
}

/// A new YUV420P frame holding a copy of the three planes (`y_plane` with
/// `y_stride` bytes a row, `u_plane` and `v_plane` of half the width and
/// height, rounded up, with theirs). Each plane must hold `stride * (rows -
/// 1) + row bytes` bytes.
///
/// Returns NULL (and logs why) when a plane is NULL, `width` or `height` is
/// not in 1..16384, or a stride is smaller than its plane's row.
///
/// # Safety
/// Each plane is NULL or readable for its size.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_I420(
    width: c_int,
    height: c_int,
    y_plane: *const u8,
    y_stride: c_int,
    u_plane: *const u8,
    u_stride: c_int,
    v_plane: *const u8,
    v_stride: c_int,
) -> *mut otc_video_frame {
    ffi!({
        let planes = [y_plane, u_plane, v_plane];
        let strides = [y_stride, u_stride, v_stride].map(i64::from);
        // SAFETY: caller's contract.
        let f = unsafe { VideoFrame::from_planes(Format::I420, width, height, &planes, &strides) }?;
        Ok(to_c(f))
    })
}

/// A new MJPEG frame holding a copy of `size` bytes of `buffer` (not
/// decoded: such a frame cannot be converted).
///
/// Returns NULL (and logs why) when `buffer` is NULL, `size` is 0 or above
/// 1 GiB, or `width` or `height` is not in 1..16384.
///
/// # Safety
/// `buffer` is NULL or readable for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_MJPEG(
    width: c_int,
    height: c_int,
    buffer: *const u8,
    size: usize,
) -> *mut otc_video_frame {
    ffi!({ unsafe { new_encoded(Format::Mjpeg, width, height, buffer, size) } })
}

/// A new COMPRESSED frame holding a copy of `size` bytes of encoded video
/// in `buffer` (not decoded: such a frame cannot be converted).
///
/// Returns NULL (and logs why) as `otc_video_frame_new_MJPEG`.
///
/// # Safety
/// As `otc_video_frame_new_MJPEG`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_compressed(
    width: c_int,
    height: c_int,
    buffer: *const u8,
    size: usize,
) -> *mut otc_video_frame {
    ffi!({ unsafe { new_encoded(Format::Compressed, width, height, buffer, size) } })
}

/// # Safety
/// `buffer` is NULL or readable for `size` bytes.
unsafe fn new_encoded(
    format: Format,
    width: c_int,
    height: c_int,
    buffer: *const u8,
    size: usize,
) -> Result<*mut otc_video_frame> {
    check_null(buffer, "buffer")?;
    dims(width, height)?;
    if size == 0 || size > MAX_PLANE_BYTES {
        return Err(Error::invalid(format!(
            "size {size} is out of range (1..={})",
            MAX_PLANE_BYTES
        )));
    }
    // SAFETY: caller's contract.
    let data = unsafe { std::slice::from_raw_parts(buffer, size) };
    Ok(to_c(VideoFrame::compressed(format, width, height, data)?))
}

/// A new frame of `format` holding a copy of its planes: `planes` and
/// `strides` hold one entry per plane (YUV420P 3, NV12/NV21 2, others 1),
/// each plane `strides[i] * (rows - 1) + row bytes` bytes long.
///
/// Returns NULL (and logs why) when `planes`, `strides` or a plane is NULL,
/// `format` is not a pixel format (MJPEG and COMPRESSED have no planes),
/// `width` or `height` is not in 1..16384, or a stride is smaller than its
/// plane's row.
///
/// # Safety
/// `planes` and `strides` are NULL or hold the format's number of planes;
/// each plane is NULL or readable for its size.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_from_planes(
    format: otc_video_frame_format_arg,
    width: c_int,
    height: c_int,
    planes: *mut *const u8,
    strides: *mut c_int,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(format)?;
        if format.is_compressed() {
            return Err(Error::invalid(format!("a {format} frame has no planes")));
        }
        let (p, s) = unsafe { plane_arrays(format, planes, strides) }?;
        // SAFETY: caller's contract.
        Ok(to_c(unsafe {
            VideoFrame::from_planes(format, width, height, &p, &s)
        }?))
    })
}

/// A new YUV420P frame converted from planes of `input_format` (given as
/// for `otc_video_frame_new_from_planes`). The input is only read during
/// the call.
///
/// Returns NULL (and logs why) as `otc_video_frame_new_from_planes`.
///
/// # Safety
/// As `otc_video_frame_new_from_planes`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_I420_from_planes_with_format(
    input_format: otc_video_frame_format_arg,
    width: c_int,
    height: c_int,
    planes: *mut *const u8,
    strides: *mut c_int,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(input_format)?;
        if format.is_compressed() {
            return Err(Error::invalid(format!("a {format} frame has no planes")));
        }
        let (p, s) = unsafe { plane_arrays(format, planes, strides) }?;
        // SAFETY: caller's contract; the wrapper is dropped before return.
        let input = unsafe { VideoFrame::wrap_planes(format, width, height, &p, &s, false, None) }?;
        Ok(to_c(input.convert(Format::I420)?))
    })
}

/// A new frame that uses the caller's `buffer` of `size` bytes without
/// copying it: a whole frame of `format` laid out as for
/// `otc_video_frame_new`, or encoded data for MJPEG and COMPRESSED. The
/// buffer must stay valid and unchanged until `callback(buffer, arg)` is
/// called, which happens once, when this frame and every copy sharing the
/// buffer are deleted (with `is_shallow_copyable` true, `otc_video_frame_copy`
/// shares it; otherwise copies get pixels of their own). A NULL `callback`
/// is allowed: then the buffer must outlive the frame and its shallow copies.
///
/// Returns NULL (and logs why), without calling `callback`, when `buffer`
/// is NULL, `format` is not a format (UNKNOWN, MAX, outside the enum),
/// `width` or `height` is not in 1..16384, or `size` is smaller than the
/// frame (0 or above 1 GiB for encoded data).
///
/// # Safety
/// `buffer` is NULL or readable for `size` bytes until the callback runs.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_contiguous_memory_wrapper(
    format: otc_video_frame_format_arg,
    width: c_int,
    height: c_int,
    is_shallow_copyable: otc_bool,
    buffer: *const u8,
    size: usize,
    callback: otc_video_frame_memory_release_callback,
    arg: *mut c_void,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(format)?;
        let release = callback.map(|cb| {
            // SAFETY: the caller's function, called once with its pointers.
            CallOnRelease::boxed(move || unsafe { cb(buffer, arg) })
        });
        let shallow = is_shallow_copyable != OTC_FALSE;
        // SAFETY: caller's contract. On failure `release` is dropped unrun.
        let f = unsafe {
            VideoFrame::wrap_contiguous(format, width, height, buffer, size, shallow, release)
        }?;
        Ok(to_c(f))
    })
}

/// A new frame that uses planes the caller provides through `callbacks`,
/// without copying them: `get_plane` and `get_plane_stride` are called for
/// each of the format's planes during this call, and `release` once when
/// the frame and every copy sharing its memory are deleted (copies share it
/// when `is_shallow_copyable` is true; otherwise they get pixels of their
/// own). Each plane must stay valid and unchanged until then, holding
/// `stride * (rows - 1) + row bytes` bytes.
///
/// Returns NULL (and logs why), without calling `release`, when `callbacks`
/// or `get_plane` is NULL, `get_plane` returns NULL, `format` is not a pixel
/// format (MJPEG and COMPRESSED have no planes), `width` or `height` is not
/// in 1..16384, or a stride is smaller than its plane's row.
///
/// # Safety
/// `callbacks` is NULL or valid for this call; the planes it gives are
/// readable for their size until `release` runs.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_planar_memory_wrapper(
    format: otc_video_frame_format_arg,
    width: c_int,
    height: c_int,
    is_shallow_copyable: otc_bool,
    callbacks: *mut otc_video_frame_planar_memory_callbacks,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(format)?;
        // SAFETY: caller's contract.
        let cb = unsafe { callbacks.as_ref() }
            .copied()
            .ok_or_else(|| Error::invalid("callbacks is NULL"))?;
        let get_plane = cb
            .get_plane
            .ok_or_else(|| Error::invalid("callbacks->get_plane is NULL"))?;
        if format.is_compressed() {
            return Err(Error::invalid(format!(
                "a {format} frame has no planes: use otc_video_frame_new_contiguous_memory_wrapper"
            )));
        }
        let (w, _) = dims(width, height)?;
        let mut planes = Vec::new();
        let mut strides = Vec::new();
        for i in 0..format.plane_count() {
            let plane = i as c_int;
            // SAFETY: the caller's functions, with their user data.
            planes.push(unsafe { get_plane(cb.user_data, plane) });
            strides.push(match cb.get_plane_stride {
                Some(f) => i64::from(unsafe { f(cb.user_data, plane) }),
                None => format.row_bytes(i, w) as i64,
            });
        }
        let release = cb.release.map(|r| {
            let user_data = cb.user_data;
            // SAFETY: the caller's function, called once with its user data.
            CallOnRelease::boxed(move || unsafe { r(user_data) })
        });
        let shallow = is_shallow_copyable != OTC_FALSE;
        // SAFETY: caller's contract. On failure `release` is dropped unrun.
        let f = unsafe {
            VideoFrame::wrap_planes(format, width, height, &planes, &strides, shallow, release)
        }?;
        Ok(to_c(f))
    })
}

/// A new YUV420P frame that uses the caller's three planes without copying
/// them; they must stay valid and unchanged until the frame is deleted
/// (copies of it get pixels of their own). Planes and strides as for
/// `otc_video_frame_new_I420`.
///
/// Returns NULL (and logs why) as `otc_video_frame_new_I420`.
///
/// # Safety
/// Each plane is NULL or readable for its size while the frame lives.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_I420_wrapper(
    width: c_int,
    height: c_int,
    y_plane: *const u8,
    y_stride: c_int,
    u_plane: *const u8,
    u_stride: c_int,
    v_plane: *const u8,
    v_stride: c_int,
) -> *mut otc_video_frame {
    ffi!({
        let planes = [y_plane, u_plane, v_plane];
        let strides = [y_stride, u_stride, v_stride].map(i64::from);
        // SAFETY: caller's contract.
        let f = unsafe {
            VideoFrame::wrap_planes(Format::I420, width, height, &planes, &strides, false, None)
        }?;
        Ok(to_c(f))
    })
}

/// A new NV21 frame that uses the caller's Y plane and interleaved V,U
/// plane (`(height + 1) / 2` rows of `2 * ((width + 1) / 2)` bytes) without
/// copying them; they must stay valid and unchanged until the frame is
/// deleted (copies of it get pixels of their own).
///
/// Returns NULL (and logs why) when a plane is NULL, `width` or `height` is
/// not in 1..16384, or a stride is smaller than its plane's row.
///
/// # Safety
/// Each plane is NULL or readable for `stride * (rows - 1) + row bytes`
/// bytes while the frame lives.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_NV21_wrapper(
    width: c_int,
    height: c_int,
    y_plane: *const u8,
    y_stride: c_int,
    uv_plane: *const u8,
    uv_stride: c_int,
) -> *mut otc_video_frame {
    ffi!({
        unsafe {
            wrap_nv(
                Format::Nv21,
                width,
                height,
                y_plane,
                y_stride,
                uv_plane,
                uv_stride,
            )
        }
    })
}

/// A new NV12 frame that uses the caller's Y plane and interleaved U,V
/// plane without copying them, as `otc_video_frame_new_NV21_wrapper`.
///
/// Returns NULL (and logs why) as `otc_video_frame_new_NV21_wrapper`.
///
/// # Safety
/// As `otc_video_frame_new_NV21_wrapper`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_new_NV12_wrapper(
    width: c_int,
    height: c_int,
    y_plane: *const u8,
    y_stride: c_int,
    uv_plane: *const u8,
    uv_stride: c_int,
) -> *mut otc_video_frame {
    ffi!({
        unsafe {
            wrap_nv(
                Format::Nv12,
                width,
                height,
                y_plane,
                y_stride,
                uv_plane,
                uv_stride,
            )
        }
    })
}

/// # Safety
/// As `otc_video_frame_new_NV21_wrapper`.
unsafe fn wrap_nv(
    format: Format,
    width: c_int,
    height: c_int,
    y_plane: *const u8,
    y_stride: c_int,
    uv_plane: *const u8,
    uv_stride: c_int,
) -> Result<*mut otc_video_frame> {
    let planes = [y_plane, uv_plane];
    let strides = [y_stride, uv_stride].map(i64::from);
    // SAFETY: caller's contract.
    let f =
        unsafe { VideoFrame::wrap_planes(format, width, height, &planes, &strides, false, None) }?;
    Ok(to_c(f))
}

/// The frame's whole data when its planes lie one after another in memory
/// (always for frames whose memory the library owns: copies, conversions,
/// and the frames made from buffers or planes); valid until the frame is
/// deleted.
///
/// Returns NULL (and logs why) when `frame` is NULL or its planes are not
/// contiguous (see `otc_video_frame_is_contiguous`; read the planes with
/// `otc_video_frame_get_plane_binary_data`).
///
/// # Safety
/// `frame` is NULL or a valid frame.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_buffer(frame: *const otc_video_frame) -> *const u8 {
    ffi!({ Ok(unsafe { try_ref(frame) }?.buffer()?.as_ptr()) })
}

/// The size in bytes of what `otc_video_frame_get_buffer` returns.
///
/// Returns 0 (and logs why) when `frame` is NULL or its planes are not
/// contiguous.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_buffer_size(frame: *const otc_video_frame) -> usize {
    ffi!(or 0, { Ok(unsafe { try_ref(frame) }?.buffer()?.len()) })
}

/// The frame's timestamp (0 unless set with `otc_video_frame_set_timestamp`;
/// copies and conversions keep it).
///
/// Returns 0 (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_timestamp(frame: *const otc_video_frame) -> i64 {
    ffi!(or 0, { Ok(unsafe { try_ref(frame) }?.timestamp()) })
}

/// Sets the frame's timestamp (any value; the SDK uses milliseconds since
/// the Unix epoch). Does nothing but log when `frame` is NULL.
///
/// # Safety
/// `frame` is NULL or a valid frame not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_set_timestamp(
    frame: *mut otc_video_frame,
    timestamp: i64,
) {
    ffi!({
        unsafe { try_mut(frame) }?.set_timestamp(timestamp);
        Ok(())
    })
}

/// The frame's width in pixels.
///
/// Returns 0 (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_width(frame: *const otc_video_frame) -> c_int {
    ffi!(or 0, { Ok(unsafe { try_ref(frame) }?.width()) })
}

/// The frame's height in pixels.
///
/// Returns 0 (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_height(frame: *const otc_video_frame) -> c_int {
    ffi!(or 0, { Ok(unsafe { try_ref(frame) }?.height()) })
}

/// The frame's number of planes: 3 for YUV420P, 2 for NV12 and NV21, 1 for
/// the packed formats (YUY2, UYVY, the RGB formats) and for MJPEG and
/// COMPRESSED data.
///
/// Returns 0 (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_number_of_planes(
    frame: *const otc_video_frame,
) -> usize {
    ffi!(or 0, { Ok(unsafe { try_ref(frame) }?.plane_count()) })
}

/// The frame's format.
///
/// Returns `OTC_VIDEO_FRAME_FORMAT_UNKNOWN` (and logs why) when `frame` is
/// NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_format(
    frame: *const otc_video_frame,
) -> otc_video_frame_format {
    ffi!(or otc_video_frame_format::OTC_VIDEO_FRAME_FORMAT_UNKNOWN, {
        Ok(format_out(unsafe { try_ref(frame) }?.format()))
    })
}

/// Relabels the frame's pixels as `format` without changing them: allowed
/// between formats with the same planes (ARGB32, BGRA32, ABGR32 and RGBA32
/// among themselves; NV12 and NV21; YUY2 and UYVY; MJPEG and COMPRESSED).
/// Use `otc_video_frame_convert` to change the pixels.
///
/// Does nothing but log when `frame` is NULL, `format` is not a format, or
/// its planes differ from the frame's.
///
/// # Safety
/// As `otc_video_frame_set_timestamp`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_set_format(
    frame: *mut otc_video_frame,
    format: otc_video_frame_format_arg,
) {
    ffi!({
        let frame = unsafe { try_mut(frame) }?;
        frame.set_format(format_arg(format)?)
    })
}

/// The first byte of `plane` (see `enum otc_video_frame_plane`), valid
/// until the frame is deleted. For a frame from `otc_video_frame_mutable_copy`
/// that has not been copied since, the bytes may be written (cast the
/// pointer); the pixels of other frames are shared or lent: read only.
///
/// Returns NULL (and logs why) when `frame` is NULL or the format has no
/// such plane (e.g. `OTC_VIDEO_FRAME_PLANE_U` of an ARGB32 frame).
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_plane_binary_data(
    frame: *const otc_video_frame,
    plane: otc_video_frame_plane_arg,
) -> *const u8 {
    ffi!({ unsafe { try_ref(frame) }?.plane_ptr(plane_arg(plane)?) })
}

/// A plane dimension as the C `int` the SDK returns (dimensions are
/// capped far below `INT_MAX`, so this only guards the conversion).
fn saturating_c_int(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// The size in bytes of `plane`: its stride times its rows (for MJPEG and
/// COMPRESSED frames, the data's size).
///
/// Returns 0 (and logs why) when `frame` is NULL or the format has no such
/// plane.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_plane_size(
    frame: *const otc_video_frame,
    plane: otc_video_frame_plane_arg,
) -> usize {
    ffi!(or 0, { unsafe { try_ref(frame) }?.plane_size(plane_arg(plane)?) })
}

/// The bytes from one row of `plane` to the next (0 for MJPEG and
/// COMPRESSED data, which has no rows).
///
/// Returns 0 (and logs why) when `frame` is NULL or the format has no such
/// plane.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_plane_stride(
    frame: *const otc_video_frame,
    plane: otc_video_frame_plane_arg,
) -> c_int {
    ffi!(or 0, {
        Ok(saturating_c_int(unsafe { try_ref(frame) }?.plane_stride(plane_arg(plane)?)?))
    })
}

/// The width of `plane` in samples: the frame's width for the Y plane and
/// single-plane formats, `(width + 1) / 2` for the U and V planes and for
/// the interleaved chroma plane of NV12/NV21 (counted in U,V pairs).
///
/// Returns 0 (and logs why) when `frame` is NULL or the format has no such
/// plane.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_plane_width(
    frame: *const otc_video_frame,
    plane: otc_video_frame_plane_arg,
) -> c_int {
    ffi!(or 0, {
        Ok(saturating_c_int(unsafe { try_ref(frame) }?.plane_width(plane_arg(plane)?)?))
    })
}

/// The rows of `plane`: the frame's height, or `(height + 1) / 2` for the
/// chroma planes of YUV420P, NV12 and NV21.
///
/// Returns 0 (and logs why) when `frame` is NULL or the format has no such
/// plane.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_plane_height(
    frame: *const otc_video_frame,
    plane: otc_video_frame_plane_arg,
) -> c_int {
    ffi!(or 0, {
        Ok(saturating_c_int(unsafe { try_ref(frame) }?.plane_height(plane_arg(plane)?)?))
    })
}

/// A new frame with the same format, size, pixels, timestamp and metadata,
/// to be deleted with `otc_video_frame_delete`. It shares the pixels with
/// `frame` when it can (memory the library owns, or lent as shallow
/// copyable), else copies them; either way it stays valid after `frame` is
/// deleted. Use `otc_video_frame_mutable_copy` for pixels to write.
///
/// Returns NULL (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_copy(
    frame: *const otc_video_frame,
) -> *mut otc_video_frame {
    ffi!({ Ok(to_c(unsafe { try_ref(frame) }?.copy())) })
}

/// A new frame as `otc_video_frame_copy`, always with pixels of its own
/// (contiguous, tightest strides), which may be written through the
/// pointers of `otc_video_frame_get_plane_binary_data` while no copy of it
/// exists.
///
/// Returns NULL (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_mutable_copy(
    frame: *const otc_video_frame,
) -> *mut otc_video_frame {
    ffi!({ Ok(to_c(unsafe { try_ref(frame) }?.mutable_copy())) })
}

/// A new frame with `frame`'s pixels in `format` (any format but MJPEG and
/// COMPRESSED; same timestamp and metadata), to be deleted with
/// `otc_video_frame_delete`. To the same format it is a copy as
/// `otc_video_frame_copy`. YUV and RGB convert with BT.601, limited range;
/// conversions between two formats that are not both RGB go through
/// YUV420P.
///
/// Returns NULL (and logs why) when `frame` is NULL, `format` is not a
/// pixel format, or either format is MJPEG or COMPRESSED.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_convert(
    format: otc_video_frame_format_arg,
    frame: *const otc_video_frame,
) -> *mut otc_video_frame {
    ffi!({
        let format = format_arg(format)?;
        Ok(to_c(unsafe { try_ref(frame) }?.convert(format)?))
    })
}

/// Writes `input_frame`'s pixels, converted to `format`, into the caller's
/// planes: `planes` and `strides` hold one entry per plane of `format`
/// (YUV420P 3, NV12/NV21 2, others 1), each plane at least `strides[i] *
/// (rows - 1) + row bytes` bytes. The destination may be the input's own
/// memory (the conversion is done before anything is written).
///
/// Returns `OTC_SUCCESS`, or `OTC_SESSION_NULL_OR_INVALID_PARAMETER` (and
/// logs why, writing nothing) when a pointer is NULL, `format` is not a
/// pixel format, either format is MJPEG or COMPRESSED, or a stride is
/// smaller than its plane's row.
///
/// # Safety
/// `planes` and `strides` are NULL or hold the format's number of entries;
/// each plane is NULL or writable for its size; `input_frame` is NULL or a
/// valid frame.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_convert_inplace(
    format: otc_video_frame_format_arg,
    planes: *mut *mut u8,
    strides: *const c_int,
    input_frame: *const otc_video_frame,
) -> otc_status {
    ffi!({
        let format = format_arg(format)?;
        let input = unsafe { try_ref(input_frame) }?;
        if format.is_compressed() {
            return Err(Error::invalid(format!("cannot convert into {format}")));
        }
        let (ptrs, strides) = unsafe { plane_arrays(format, planes as *const *const u8, strides) }?;
        // Pixels of its own, so that writing the destination cannot change
        // what is being read even when it is the input's memory.
        let out = if format == input.format() {
            input.mutable_copy()
        } else {
            input.convert(format)?
        };
        let (w, h) = (out.width() as u32, out.height() as u32);
        let mut lens = Vec::new();
        let mut strides_ok = Vec::new();
        for (i, (&p, &s)) in ptrs.iter().zip(&strides).enumerate() {
            check_null(p, &format!("planes[{i}]"))?;
            let stride = usize::try_from(s).unwrap_or(0);
            let len = format.plane_span(i, w, h, stride).ok_or_else(|| {
                Error::invalid(format!(
                    "stride {s} of plane {i} is below the row size of a {w}-pixel-wide \
                     {format} frame"
                ))
            })?;
            lens.push(len);
            strides_ok.push(stride);
        }
        // SAFETY: caller's contract (each plane writable for its size); the
        // input is no longer read.
        let mut dst: Vec<&mut [u8]> = ptrs
            .iter()
            .zip(&lens)
            .map(|(&p, &len)| unsafe { std::slice::from_raw_parts_mut(p as *mut u8, len) })
            .collect();
        out.write_planes(&mut dst, &strides_ok)?;
        Ok(OTC_SUCCESS)
    })
}

/// Whether the whole image is in a single plane: `OTC_TRUE` for YUY2, UYVY,
/// the RGB formats, MJPEG and COMPRESSED; `OTC_FALSE` for YUV420P, NV12 and
/// NV21.
///
/// Returns `OTC_FALSE` (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_is_packed(frame: *const otc_video_frame) -> otc_bool {
    ffi!(or OTC_FALSE, { Ok(bool_c(unsafe { try_ref(frame) }?.is_packed())) })
}

/// Whether the frame's planes lie one right after another in memory, so
/// that `otc_video_frame_get_buffer` returns them all. Always `OTC_TRUE`
/// for frames whose memory the library owns and for single-plane frames.
///
/// Returns `OTC_FALSE` (and logs why) when `frame` is NULL.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_is_contiguous(frame: *const otc_video_frame) -> otc_bool {
    ffi!(or OTC_FALSE, { Ok(bool_c(unsafe { try_ref(frame) }?.is_contiguous())) })
}

fn bool_c(b: bool) -> otc_bool {
    if b {
        OTC_TRUE
    } else {
        OTC_FALSE
    }
}

/// Replaces the frame's metadata with a copy of `size` bytes of `data`
/// (at most `OTC_VIDEO_FRAME_METADATA_MAX_SIZE`); `size` 0 removes it
/// (`data` may then be NULL). Copies and conversions keep the metadata.
///
/// Returns `OTC_SUCCESS`, or `OTC_SESSION_NULL_OR_INVALID_PARAMETER` (and
/// logs why, leaving the metadata as it was) when `frame` is NULL, `data` is
/// NULL with a non-zero `size`, or `size` is above the maximum.
///
/// # Safety
/// `frame` as for `otc_video_frame_set_timestamp`; `data` is NULL or
/// readable for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_set_metadata(
    frame: *mut otc_video_frame,
    data: *const u8,
    size: usize,
) -> otc_status {
    ffi!({
        let frame = unsafe { try_mut(frame) }?;
        if size > METADATA_MAX_SIZE {
            return Err(Error::invalid(format!(
                "metadata of {size} bytes is longer than {METADATA_MAX_SIZE}"
            )));
        }
        let bytes: &[u8] = if size == 0 {
            &[]
        } else {
            check_null(data, "data")?;
            // SAFETY: caller's contract.
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        frame.set_metadata(bytes)?;
        Ok(OTC_SUCCESS)
    })
}

/// The frame's metadata, its length stored in `*size`; valid until the
/// frame is deleted or its metadata set again. A frame without metadata
/// gives NULL and `*size` = 0.
///
/// Returns NULL (and logs why, with `*size` = 0 when `size` is not NULL)
/// when `frame` or `size` is NULL.
///
/// # Safety
/// `frame` as for `otc_video_frame_get_buffer`; `size` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_metadata(
    frame: *const otc_video_frame,
    size: *mut usize,
) -> *const u8 {
    ffi!({
        // SAFETY: caller's contract.
        let size = unsafe { size.as_mut() }.ok_or_else(|| Error::invalid("size is NULL"))?;
        *size = 0;
        let meta = unsafe { try_ref(frame) }?.metadata();
        *size = meta.len();
        Ok(if meta.is_empty() {
            std::ptr::null()
        } else {
            meta.as_ptr()
        })
    })
}

/// Always NULL: frames here are plain memory, with no platform image
/// behind them (the SDK returns one on platforms that have them).
///
/// Returns NULL (and logs why) when `frame` is NULL too.
///
/// # Safety
/// As `otc_video_frame_get_buffer`.
#[no_mangle]
pub unsafe extern "C" fn otc_video_frame_get_native_handle(
    frame: *const otc_video_frame,
) -> *mut c_void {
    ffi!({
        unsafe { try_ref(frame) }?;
        Ok(std::ptr::null_mut())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_constants_match_the_core() {
        assert_eq!(OTC_VIDEO_FRAME_METADATA_MAX_SIZE, METADATA_MAX_SIZE);
        for f in Format::all() {
            assert_eq!(format_out(f) as i32, f.sdk(), "{f}");
            assert_eq!(format_arg(f.sdk()).ok(), Some(f));
        }
        for bad in [0, 12, 13, -1, 256] {
            assert!(format_arg(bad).is_err(), "{bad}");
        }
        assert_eq!(plane_arg(0).ok(), Some(0));
        assert_eq!(plane_arg(2).ok(), Some(2));
        assert!(plane_arg(3).is_err() && plane_arg(-1).is_err());
    }

    #[test]
    fn a_release_callback_runs_once_with_its_pointers() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        unsafe extern "C" fn release(buffer: *const u8, arg: *mut c_void) {
            if arg as usize == 7 && !buffer.is_null() {
                CALLS.fetch_add(1, Ordering::SeqCst);
            }
        }
        let px = [1u8; 16];
        let f = unsafe {
            otc_video_frame_new_contiguous_memory_wrapper(
                otc_video_frame_format::OTC_VIDEO_FRAME_FORMAT_RGBA32 as c_int,
                2,
                2,
                OTC_TRUE,
                px.as_ptr(),
                px.len(),
                Some(release),
                7 as *mut c_void,
            )
        };
        assert!(!f.is_null());
        let c = unsafe { otc_video_frame_copy(f) };
        assert_eq!(unsafe { otc_video_frame_delete(f) }, OTC_SUCCESS);
        assert_eq!(CALLS.load(Ordering::SeqCst), 0);
        assert_eq!(unsafe { otc_video_frame_delete(c) }, OTC_SUCCESS);
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    }
}
