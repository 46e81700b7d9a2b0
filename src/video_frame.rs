//! Video frames: pixels in memory, as the SDK's `video_frame.h` describes
//! them. No media engine is involved; a frame is a format, a size, up to
//! three planes (each a pointer, a stride and a length), a timestamp and at
//! most [`METADATA_MAX_SIZE`] bytes of metadata.
//!
//! # Memory
//!
//! A frame's pixels live in one of two places:
//! - memory the library owns ([`VideoFrame::from_contiguous`],
//!   [`VideoFrame::from_planes`], [`VideoFrame::compressed`], every copy and
//!   every conversion). It is one allocation holding the planes one after
//!   another with the tightest strides, so such a frame is always contiguous;
//! - memory the caller lends ([`VideoFrame::wrap_contiguous`],
//!   [`VideoFrame::wrap_planes`]): the frame only points at it, and runs the
//!   caller's release function (if any) once the last frame using it is gone.
//!
//! Copies ([`VideoFrame::copy`]) share the pixels when that is safe: always
//! for library-owned memory, and for lent memory the caller marked shallow
//! copyable; otherwise they copy. [`VideoFrame::mutable_copy`] always copies,
//! so its result is the only user of its pixels and may be written.
//!
//! # Pixel formats and byte order
//!
//! The names of the 32-bit RGB formats follow libyuv, which the Vonage SDK
//! uses for its conversions: a name lists the channels from the most to the
//! least significant byte of a little-endian 32-bit word, so in memory the
//! bytes come in the *reverse* order of the name:
//!
//! | format   | bytes in memory |
//! |----------|-----------------|
//! | `ARGB32` | B, G, R, A      |
//! | `BGRA32` | A, R, G, B      |
//! | `ABGR32` | R, G, B, A      |
//! | `RGBA32` | A, B, G, R      |
//! | `RGB24`  | B, G, R         |
//!
//! (The Linux SDK's own sample renderer hands `ARGB32` frames to SDL as
//! `0xAARRGGBB` words, which is this order.) YUV conversions use the BT.601
//! matrix with limited ("TV") range, as libyuv does by default: Y in
//! 16..=235, U and V in 16..=240. I420 is the hub: a conversion between two
//! formats that are not both RGB goes through I420.

use std::borrow::Cow;
use std::fmt;
use std::ptr::NonNull;
use std::sync::Arc;

use yuv::{
    BufferStoreMut, YuvConversionMode, YuvPackedImageMut, YuvPlanarImage, YuvPlanarImageMut,
    YuvRange, YuvStandardMatrix,
};

use crate::error::{Error, Result};

// The constants are `pub(crate)`: cbindgen would put `pub` ones in the C
// header, which has its own (src/ffi/video_frame.rs).

/// The most metadata bytes a frame holds (`OTC_VIDEO_FRAME_METADATA_MAX_SIZE`).
pub(crate) const METADATA_MAX_SIZE: usize = 32;

/// The largest width or height a frame may have, in pixels.
pub(crate) const MAX_DIMENSION: u32 = 16384;

/// The most bytes one plane (or a compressed frame) may span: a
/// `MAX_DIMENSION` square at 4 bytes a pixel.
pub(crate) const MAX_PLANE_BYTES: usize = (MAX_DIMENSION as usize) * (MAX_DIMENSION as usize) * 4;

/// A frame's pixel format. The SDK's `enum otc_video_frame_format` values
/// are given by [`Format::sdk`]; `UNKNOWN` and `MAX` are not formats a
/// frame can have, so they have no variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Planar YUV 4:2:0 (`YUV420P`): a Y plane, then U and V planes at half
    /// the width and height (rounded up).
    I420,
    /// A Y plane, then one plane of interleaved U,V pairs at half the width
    /// and height.
    Nv12,
    /// As [`Format::Nv12`], with V,U pairs.
    Nv21,
    /// Packed YUV 4:2:2: Y0 U Y1 V for every two pixels.
    Yuy2,
    /// Packed YUV 4:2:2: U Y0 V Y1 for every two pixels.
    Uyvy,
    /// 4 bytes a pixel, B G R A in memory (see the module documentation).
    Argb32,
    /// 4 bytes a pixel, A R G B in memory.
    Bgra32,
    /// 3 bytes a pixel, B G R in memory.
    Rgb24,
    /// 4 bytes a pixel, R G B A in memory.
    Abgr32,
    /// A Motion-JPEG image: opaque bytes, never converted.
    Mjpeg,
    /// 4 bytes a pixel, A B G R in memory.
    Rgba32,
    /// Encoded video: opaque bytes, never converted.
    Compressed,
}

impl Format {
    /// Every format, in the order of their SDK values.
    const ALL: [Format; 12] = [
        Format::I420,
        Format::Nv12,
        Format::Nv21,
        Format::Yuy2,
        Format::Uyvy,
        Format::Argb32,
        Format::Bgra32,
        Format::Rgb24,
        Format::Abgr32,
        Format::Mjpeg,
        Format::Rgba32,
        Format::Compressed,
    ];

    /// Every format, in the order of their SDK values.
    pub fn all() -> impl Iterator<Item = Format> {
        Format::ALL.into_iter()
    }

    /// The format with the SDK value `v`; `None` for `UNKNOWN` (0), `MAX`
    /// (12) and values outside the enum.
    pub fn from_sdk(v: i32) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.sdk() == v)
    }

    /// The SDK's `enum otc_video_frame_format` value.
    pub fn sdk(self) -> i32 {
        match self {
            Format::I420 => 1,
            Format::Nv12 => 2,
            Format::Nv21 => 3,
            Format::Yuy2 => 4,
            Format::Uyvy => 5,
            Format::Argb32 => 6,
            Format::Bgra32 => 7,
            Format::Rgb24 => 8,
            Format::Abgr32 => 9,
            Format::Mjpeg => 10,
            Format::Rgba32 => 11,
            Format::Compressed => 255,
        }
    }

    /// The SDK's name, without the `OTC_VIDEO_FRAME_FORMAT_` prefix.
    pub fn name(self) -> &'static str {
        match self {
            Format::I420 => "YUV420P",
            Format::Nv12 => "NV12",
            Format::Nv21 => "NV21",
            Format::Yuy2 => "YUY2",
            Format::Uyvy => "UYVY",
            Format::Argb32 => "ARGB32",
            Format::Bgra32 => "BGRA32",
            Format::Rgb24 => "RGB24",
            Format::Abgr32 => "ABGR32",
            Format::Mjpeg => "MJPEG",
            Format::Rgba32 => "RGBA32",
            Format::Compressed => "COMPRESSED",
        }
    }

    /// Opaque encoded bytes (MJPEG, compressed): no planes of pixels, no
    /// conversion.
    pub fn is_compressed(self) -> bool {
        matches!(self, Format::Mjpeg | Format::Compressed)
    }

    /// One of the RGB formats.
    pub fn is_rgb(self) -> bool {
        self.rgb_layout().is_some()
    }

    /// How many planes a frame of this format has.
    pub fn plane_count(self) -> usize {
        match self {
            Format::I420 => 3,
            Format::Nv12 | Format::Nv21 => 2,
            _ => 1,
        }
    }

    /// Whether the whole image is in a single plane (packed RGB and YUV
    /// 4:2:2 formats, and the opaque compressed ones).
    pub fn is_packed(self) -> bool {
        self.plane_count() == 1
    }

    /// Where R, G, B (and A) sit in a pixel, for the RGB formats.
    fn rgb_layout(self) -> Option<RgbLayout> {
        let l = |bytes, r, g, b, a| Some(RgbLayout { bytes, r, g, b, a });
        match self {
            Format::Argb32 => l(4, 2, 1, 0, Some(3)),
            Format::Bgra32 => l(4, 1, 2, 3, Some(0)),
            Format::Abgr32 => l(4, 0, 1, 2, Some(3)),
            Format::Rgba32 => l(4, 3, 2, 1, Some(0)),
            Format::Rgb24 => l(3, 2, 1, 0, None),
            _ => None,
        }
    }

    /// Formats whose planes have the same sizes, so a frame of one can be
    /// relabelled as the other (`otc_video_frame_set_format`).
    fn same_layout(self, other: Format) -> bool {
        use Format::*;
        let class = |f: Format| match f {
            I420 => 0,
            Nv12 | Nv21 => 1,
            Yuy2 | Uyvy => 2,
            Argb32 | Bgra32 | Abgr32 | Rgba32 => 3,
            Rgb24 => 4,
            Mjpeg | Compressed => 5,
        };
        class(self) == class(other)
    }

    /// The sizes of plane `i` of a `width` x `height` frame (uncompressed
    /// formats only).
    fn plane_shape(self, i: usize, width: u32, height: u32) -> Shape {
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let s = |width, height, row_bytes| Shape {
            width,
            height,
            row_bytes,
        };
        match (self, i) {
            (Format::I420 | Format::Nv12 | Format::Nv21, 0) => s(w, h, w),
            (Format::I420, _) => s(cw, ch, cw),
            (Format::Nv12 | Format::Nv21, _) => s(cw, ch, cw * 2),
            (Format::Yuy2 | Format::Uyvy, _) => s(w, h, cw * 4),
            (Format::Rgb24, _) => s(w, h, w * 3),
            (Format::Mjpeg | Format::Compressed, _) => s(w, h, 0),
            _ => s(w, h, w * 4),
        }
    }

    /// The bytes plane `i` of a `width` x `height` frame spans with
    /// `stride`, from its first byte to the end of its last row's pixels;
    /// `None` when the stride is below the row size (uncompressed formats
    /// only).
    pub fn plane_span(self, i: usize, width: u32, height: u32, stride: usize) -> Option<usize> {
        let s = self.plane_shape(i, width, height);
        if stride < s.row_bytes || s.height == 0 {
            return None;
        }
        stride.checked_mul(s.height - 1)?.checked_add(s.row_bytes)
    }

    /// The pixel bytes of one row of plane `i` of a `width`-pixel-wide frame
    /// (the tightest stride; uncompressed formats only).
    pub fn row_bytes(self, i: usize, width: u32) -> usize {
        self.plane_shape(i, width, 1).row_bytes
    }

    /// The bytes of a `width` x `height` frame with the tightest strides
    /// (uncompressed formats only).
    pub fn frame_size(self, width: u32, height: u32) -> usize {
        (0..self.plane_count())
            .map(|i| self.plane_shape(i, width, height).tight_size())
            .sum()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Byte positions of the channels in one RGB pixel.
#[derive(Debug, Clone, Copy)]
struct RgbLayout {
    bytes: usize,
    r: usize,
    g: usize,
    b: usize,
    a: Option<usize>,
}

/// The sizes of one plane.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// In samples (chroma planes: U,V pairs for NV12/NV21).
    width: usize,
    /// Rows.
    height: usize,
    /// The bytes of one row without padding.
    row_bytes: usize,
}

impl Shape {
    fn tight_size(&self) -> usize {
        self.row_bytes * self.height
    }

    /// The bytes a plane with `stride` spans, up to the end of its last
    /// row's pixels (the padding after the last row is not required).
    fn span(&self, stride: usize) -> usize {
        stride * (self.height - 1) + self.row_bytes
    }
}

/// One plane of a frame.
#[derive(Debug, Clone, Copy)]
struct Plane {
    /// First byte. Writable only when the frame owns its memory alone.
    ptr: *mut u8,
    /// Bytes from one row to the next (0 for compressed data).
    stride: usize,
    /// Width in samples and height in rows, as the getters report them.
    width: usize,
    height: usize,
    /// The pixel bytes of one row.
    row_bytes: usize,
    /// The bytes readable from `ptr` (without the last row's padding).
    len: usize,
    /// What `otc_video_frame_get_plane_size` reports: stride x rows (the
    /// data length for compressed frames).
    size: usize,
}

impl Plane {
    /// The bytes this plane's rows span with another `stride`.
    fn stride_span(&self, stride: usize) -> usize {
        stride * (self.height - 1) + self.row_bytes
    }
}

/// Runs once, when the last frame using lent memory is dropped.
pub type Release = Box<dyn FnOnce() + Send>;

/// The memory behind a frame's planes, shared by its shallow copies.
enum Storage {
    /// Ours: a boxed byte slice, kept as a raw pointer so that the plane
    /// pointers derived from it stay valid (and writable) while it lives.
    Owned { ptr: NonNull<u8>, len: usize },
    /// The caller's, with the function that gives it back.
    Lent { release: Option<Release> },
}

// SAFETY: `Owned` is a heap allocation only this type frees; `Lent` holds a
// `Send` closure. The storage is never written through a shared reference
// (writes need the frame's unique ownership, see `VideoFrame::plane_mut`).
unsafe impl Send for Storage {}
// SAFETY: as above; shared access only reads.
unsafe impl Sync for Storage {}

impl Drop for Storage {
    fn drop(&mut self) {
        match self {
            Storage::Owned { ptr, len } => {
                let slice = std::ptr::slice_from_raw_parts_mut(ptr.as_ptr(), *len);
                // SAFETY: `ptr`/`len` came from `Box::into_raw` in `alloc`.
                drop(unsafe { Box::from_raw(slice) });
            }
            Storage::Lent { release } => {
                if let Some(release) = release.take() {
                    release();
                }
            }
        }
    }
}

impl Storage {
    /// A zeroed allocation of `len` bytes and a pointer to its start.
    fn alloc(len: usize) -> (Storage, *mut u8) {
        let raw = Box::into_raw(vec![0u8; len].into_boxed_slice());
        let ptr = raw as *mut u8;
        // SAFETY: `Box::into_raw` never returns NULL.
        let nn = unsafe { NonNull::new_unchecked(ptr) };
        (Storage::Owned { ptr: nn, len }, ptr)
    }

    /// Our copy of `bytes`.
    fn copy_of(bytes: &[u8]) -> (Storage, *mut u8) {
        let raw = Box::into_raw(bytes.to_vec().into_boxed_slice());
        let ptr = raw as *mut u8;
        // SAFETY: `Box::into_raw` never returns NULL.
        let nn = unsafe { NonNull::new_unchecked(ptr) };
        (
            Storage::Owned {
                ptr: nn,
                len: bytes.len(),
            },
            ptr,
        )
    }
}

/// A video frame; see the module documentation.
pub struct VideoFrame {
    format: Format,
    width: u32,
    height: u32,
    planes: Vec<Plane>,
    storage: Arc<Storage>,
    /// Whether a copy may share `storage` instead of copying the pixels.
    shallow_copyable: bool,
    timestamp: i64,
    metadata: Vec<u8>,
}

// SAFETY: the plane pointers point into `storage` (which is Send + Sync) or
// into memory the caller lent for the frame's whole life, to be used from
// any thread (as the SDK does). Rust only reads through them, except via
// `&mut self` when the frame owns its memory alone.
unsafe impl Send for VideoFrame {}
// SAFETY: as above.
unsafe impl Sync for VideoFrame {}

impl fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoFrame")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("planes", &self.planes.len())
            .field("timestamp", &self.timestamp)
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// A width or height in `1..=MAX_DIMENSION`.
pub(crate) fn dimension(what: &str, v: i32) -> Result<u32> {
    match u32::try_from(v) {
        Ok(d) if (1..=MAX_DIMENSION).contains(&d) => Ok(d),
        _ => Err(Error::invalid(format!(
            "{what} {v} is out of range (1..={MAX_DIMENSION})"
        ))),
    }
}

fn check_plane_bytes(what: &str, n: usize) -> Result<()> {
    if n == 0 || n > MAX_PLANE_BYTES {
        return Err(Error::invalid(format!(
            "{what} of {n} bytes is out of range (1..={MAX_PLANE_BYTES})"
        )));
    }
    Ok(())
}

fn uncompressed(format: Format, what: &str) -> Result<()> {
    if format.is_compressed() {
        return Err(Error::invalid(format!(
            "a {format} frame is opaque data with a size: {what}"
        )));
    }
    Ok(())
}

fn pixel_error(e: yuv::YuvError) -> Error {
    Error::internal(format!("pixel conversion failed: {e}"))
}

const RANGE: YuvRange = YuvRange::Limited;
const MATRIX: YuvStandardMatrix = YuvStandardMatrix::Bt601;
const MODE: YuvConversionMode = YuvConversionMode::Balanced;

impl VideoFrame {
    /// Puts planes at `ptr` one after another with the tightest strides.
    fn tight_planes(format: Format, width: u32, height: u32, mut ptr: *mut u8) -> Vec<Plane> {
        (0..format.plane_count())
            .map(|i| {
                let s = format.plane_shape(i, width, height);
                let p = Plane {
                    ptr,
                    stride: s.row_bytes,
                    width: s.width,
                    height: s.height,
                    row_bytes: s.row_bytes,
                    len: s.tight_size(),
                    size: s.tight_size(),
                };
                // Stays inside (or one past the end of) the allocation.
                ptr = ptr.wrapping_add(s.tight_size());
                p
            })
            .collect()
    }

    fn with_storage(
        format: Format,
        width: u32,
        height: u32,
        planes: Vec<Plane>,
        storage: Storage,
        shallow_copyable: bool,
    ) -> VideoFrame {
        VideoFrame {
            format,
            width,
            height,
            planes,
            storage: Arc::new(storage),
            shallow_copyable,
            timestamp: 0,
            metadata: Vec::new(),
        }
    }

    /// A zeroed frame in memory of its own.
    fn alloc(format: Format, width: u32, height: u32) -> VideoFrame {
        let (storage, ptr) = Storage::alloc(format.frame_size(width, height));
        let planes = Self::tight_planes(format, width, height, ptr);
        Self::with_storage(format, width, height, planes, storage, true)
    }

    /// A frame holding a copy of `data`: the planes one after another with
    /// the tightest strides (`data` must hold `format.frame_size(..)` bytes
    /// at least; the rest is ignored).
    pub fn from_contiguous(format: Format, width: i32, height: i32, data: &[u8]) -> Result<Self> {
        uncompressed(
            format,
            "create it with its size (otc_video_frame_new_MJPEG/_compressed)",
        )?;
        let (w, h) = (dimension("width", width)?, dimension("height", height)?);
        let need = format.frame_size(w, h);
        if data.len() < need {
            return Err(Error::invalid(format!(
                "a {w}x{h} {format} frame needs {need} bytes, got {}",
                data.len()
            )));
        }
        let (storage, ptr) = Storage::copy_of(&data[..need]);
        let planes = Self::tight_planes(format, w, h, ptr);
        Ok(Self::with_storage(format, w, h, planes, storage, true))
    }

    /// A frame holding a copy of opaque encoded `data` (MJPEG or compressed).
    pub fn compressed(format: Format, width: i32, height: i32, data: &[u8]) -> Result<Self> {
        if !format.is_compressed() {
            return Err(Error::invalid(format!(
                "{format} is not an encoded format (MJPEG or COMPRESSED)"
            )));
        }
        let (w, h) = (dimension("width", width)?, dimension("height", height)?);
        check_plane_bytes("encoded data", data.len())?;
        let (storage, ptr) = Storage::copy_of(data);
        let planes = vec![Self::compressed_plane(ptr, w, h, data.len())];
        Ok(Self::with_storage(format, w, h, planes, storage, true))
    }

    fn compressed_plane(ptr: *mut u8, w: u32, h: u32, len: usize) -> Plane {
        Plane {
            ptr,
            stride: 0,
            width: w as usize,
            height: h as usize,
            row_bytes: len,
            len,
            size: len,
        }
    }

    /// Checks caller-given strides and describes the planes at `ptrs`.
    fn lent_planes(
        format: Format,
        w: u32,
        h: u32,
        ptrs: &[*const u8],
        strides: &[i64],
    ) -> Result<Vec<Plane>> {
        let n = format.plane_count();
        if ptrs.len() < n || strides.len() < n {
            return Err(Error::invalid(format!(
                "a {format} frame has {n} planes, got {}",
                ptrs.len().min(strides.len())
            )));
        }
        (0..n)
            .map(|i| {
                let s = format.plane_shape(i, w, h);
                if ptrs[i].is_null() {
                    return Err(Error::invalid(format!(
                        "plane {i} of a {format} frame is NULL"
                    )));
                }
                let stride = usize::try_from(strides[i])
                    .ok()
                    .filter(|st| *st >= s.row_bytes)
                    .ok_or_else(|| {
                        Error::invalid(format!(
                            "stride {} of plane {i} is below the {} bytes of a row of a \
                             {w}-pixel-wide {format} frame",
                            strides[i], s.row_bytes
                        ))
                    })?;
                let size = stride.saturating_mul(s.height);
                check_plane_bytes(&format!("plane {i} (stride {stride})"), size)?;
                Ok(Plane {
                    ptr: ptrs[i] as *mut u8,
                    stride,
                    width: s.width,
                    height: s.height,
                    row_bytes: s.row_bytes,
                    len: s.span(stride),
                    size,
                })
            })
            .collect()
    }

    /// A frame holding a copy of the planes at `ptrs`, with `strides`
    /// (repacked to the tightest strides).
    ///
    /// # Safety
    /// Each of the format's planes is readable for `stride * (rows - 1) +
    /// row bytes` bytes (see [`Format`] for the rows and row sizes).
    pub unsafe fn from_planes(
        format: Format,
        width: i32,
        height: i32,
        ptrs: &[*const u8],
        strides: &[i64],
    ) -> Result<Self> {
        uncompressed(
            format,
            "create it with its size (otc_video_frame_new_MJPEG/_compressed)",
        )?;
        // SAFETY: forwarded to the caller.
        let lent = unsafe { Self::wrap_planes(format, width, height, ptrs, strides, false, None) }?;
        Ok(lent.mutable_copy())
    }

    /// A frame that points at the caller's planes without copying them.
    ///
    /// On success `release` runs once the frame and all its shallow copies
    /// are dropped; on failure it is dropped without running.
    ///
    /// # Safety
    /// As [`VideoFrame::from_planes`], and the memory stays valid and
    /// unchanged until `release` runs (or until the frame is dropped, when
    /// there is no `release`). With `shallow_copyable`, copies share it.
    pub unsafe fn wrap_planes(
        format: Format,
        width: i32,
        height: i32,
        ptrs: &[*const u8],
        strides: &[i64],
        shallow_copyable: bool,
        release: Option<Release>,
    ) -> Result<Self> {
        uncompressed(format, "wrap it as one buffer with its size")?;
        let (w, h) = (dimension("width", width)?, dimension("height", height)?);
        let planes = Self::lent_planes(format, w, h, ptrs, strides)?;
        Ok(Self::with_storage(
            format,
            w,
            h,
            planes,
            Storage::Lent { release },
            shallow_copyable,
        ))
    }

    /// A frame that points at the caller's contiguous buffer of `len` bytes:
    /// the planes one after another with the tightest strides, or opaque
    /// data for MJPEG and compressed frames.
    ///
    /// # Safety
    /// `ptr` is readable for `len` bytes, which stay valid and unchanged as
    /// for [`VideoFrame::wrap_planes`].
    pub unsafe fn wrap_contiguous(
        format: Format,
        width: i32,
        height: i32,
        ptr: *const u8,
        len: usize,
        shallow_copyable: bool,
        release: Option<Release>,
    ) -> Result<Self> {
        let (w, h) = (dimension("width", width)?, dimension("height", height)?);
        if ptr.is_null() {
            return Err(Error::invalid("buffer is NULL"));
        }
        let planes = if format.is_compressed() {
            check_plane_bytes("encoded data", len)?;
            vec![Self::compressed_plane(ptr as *mut u8, w, h, len)]
        } else {
            let need = format.frame_size(w, h);
            if len < need {
                return Err(Error::invalid(format!(
                    "a {w}x{h} {format} frame needs {need} bytes, the buffer holds {len}"
                )));
            }
            Self::tight_planes(format, w, h, ptr as *mut u8)
        };
        Ok(Self::with_storage(
            format,
            w,
            h,
            planes,
            Storage::Lent { release },
            shallow_copyable,
        ))
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Width in pixels.
    pub fn width(&self) -> i32 {
        self.width as i32
    }

    /// Height in pixels.
    pub fn height(&self) -> i32 {
        self.height as i32
    }

    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    pub fn set_timestamp(&mut self, timestamp: i64) {
        self.timestamp = timestamp;
    }

    pub fn plane_count(&self) -> usize {
        self.planes.len()
    }

    fn plane(&self, i: usize) -> Result<&Plane> {
        self.planes.get(i).ok_or_else(|| {
            Error::invalid(format!(
                "plane {i} does not exist in a {} frame ({} plane{})",
                self.format,
                self.planes.len(),
                if self.planes.len() == 1 { "" } else { "s" }
            ))
        })
    }

    /// The readable bytes of plane `i` (from its first byte to the end of
    /// its last row's pixels).
    pub fn plane_data(&self, i: usize) -> Result<&[u8]> {
        let p = self.plane(i)?;
        // SAFETY: the plane is readable for `len` bytes while the frame
        // lives (our allocation, or the caller's promise when lending it).
        Ok(unsafe { std::slice::from_raw_parts(p.ptr, p.len) })
    }

    /// Plane `i`'s first byte, for C.
    pub fn plane_ptr(&self, i: usize) -> Result<*const u8> {
        Ok(self.plane(i)?.ptr)
    }

    /// Bytes from one row of plane `i` to the next (0 for compressed data).
    pub fn plane_stride(&self, i: usize) -> Result<usize> {
        Ok(self.plane(i)?.stride)
    }

    /// Plane `i`'s width in samples: the frame's width for the Y plane and
    /// packed formats, half of it (rounded up) for chroma planes (U,V pairs
    /// for NV12/NV21).
    pub fn plane_width(&self, i: usize) -> Result<usize> {
        Ok(self.plane(i)?.width)
    }

    /// Plane `i`'s rows.
    pub fn plane_height(&self, i: usize) -> Result<usize> {
        Ok(self.plane(i)?.height)
    }

    /// Stride x rows of plane `i`; the data length for compressed frames.
    pub fn plane_size(&self, i: usize) -> Result<usize> {
        Ok(self.plane(i)?.size)
    }

    /// Whether the whole image is in a single plane.
    pub fn is_packed(&self) -> bool {
        self.format.is_packed()
    }

    /// Whether the planes lie one right after another in memory.
    pub fn is_contiguous(&self) -> bool {
        self.planes
            .windows(2)
            .all(|w| w[0].ptr.wrapping_add(w[0].size) == w[1].ptr)
    }

    /// All the frame's bytes, when its planes are contiguous.
    pub fn buffer(&self) -> Result<&[u8]> {
        if !self.is_contiguous() {
            return Err(Error::invalid(
                "the frame's planes are not contiguous in memory: read them one by one",
            ));
        }
        let first = self.plane(0)?;
        let last = self.plane(self.planes.len() - 1)?;
        let len = last.ptr as usize - first.ptr as usize + last.len;
        // SAFETY: contiguous planes: one readable range from the first to
        // the end of the last.
        Ok(unsafe { std::slice::from_raw_parts(first.ptr, len) })
    }

    pub fn metadata(&self) -> &[u8] {
        &self.metadata
    }

    /// Replaces the metadata (at most [`METADATA_MAX_SIZE`] bytes; empty
    /// clears it).
    pub fn set_metadata(&mut self, data: &[u8]) -> Result<()> {
        if data.len() > METADATA_MAX_SIZE {
            return Err(Error::invalid(format!(
                "metadata of {} bytes is longer than {METADATA_MAX_SIZE}",
                data.len()
            )));
        }
        self.metadata = data.to_vec();
        Ok(())
    }

    /// Relabels the pixels as `format`, which must lay its planes out the
    /// same way (the 32-bit RGB formats among themselves, NV12 and NV21,
    /// YUY2 and UYVY, MJPEG and COMPRESSED). The bytes are not touched.
    pub fn set_format(&mut self, format: Format) -> Result<()> {
        if !self.format.same_layout(format) {
            return Err(Error::invalid(format!(
                "a {} frame cannot be relabelled {format}: their planes differ \
                 (use otc_video_frame_convert)",
                self.format
            )));
        }
        self.format = format;
        Ok(())
    }

    /// Whether the frame's pixels are in memory it owns alone, so they may
    /// be written.
    pub fn is_writable(&mut self) -> bool {
        matches!(*self.storage, Storage::Owned { .. }) && Arc::get_mut(&mut self.storage).is_some()
    }

    /// Every plane for writing, with its stride, when
    /// [`VideoFrame::is_writable`].
    pub fn planes_mut(&mut self) -> Result<Vec<(&mut [u8], usize)>> {
        if !self.is_writable() {
            return Err(Error::illegal_state(
                "the frame shares its pixels or borrows them: make a mutable copy",
            ));
        }
        // SAFETY: our own allocation, used by this frame only (checked
        // above); its planes are disjoint ranges of it (laid out one after
        // another by `tight_planes` or `compressed_plane`), and `&mut self`
        // keeps every other access away while the slices live.
        Ok(self
            .planes
            .iter()
            .map(|p| {
                (
                    unsafe { std::slice::from_raw_parts_mut(p.ptr, p.len) },
                    p.stride,
                )
            })
            .collect())
    }

    /// Plane `i` for writing, when [`VideoFrame::is_writable`].
    pub fn plane_mut(&mut self, i: usize) -> Result<&mut [u8]> {
        self.plane(i)?;
        let mut planes = self.planes_mut()?;
        Ok(planes.swap_remove(i).0)
    }

    /// A copy that shares the pixels when allowed (our memory, or lent
    /// memory marked shallow copyable), else copies them.
    pub fn copy(&self) -> VideoFrame {
        if self.shallow_copyable {
            VideoFrame {
                format: self.format,
                width: self.width,
                height: self.height,
                planes: self.planes.clone(),
                storage: Arc::clone(&self.storage),
                shallow_copyable: true,
                timestamp: self.timestamp,
                metadata: self.metadata.clone(),
            }
        } else {
            self.mutable_copy()
        }
    }

    /// A copy in memory of its own (tightest strides), which may be written.
    pub fn mutable_copy(&self) -> VideoFrame {
        let mut out = if self.format.is_compressed() {
            let (storage, ptr) = Storage::copy_of(self.plane_bytes(0));
            let planes = vec![Self::compressed_plane(
                ptr,
                self.width,
                self.height,
                self.planes[0].len,
            )];
            Self::with_storage(self.format, self.width, self.height, planes, storage, true)
        } else {
            let mut out = Self::alloc(self.format, self.width, self.height);
            if let Ok(dst) = out.planes_mut() {
                for (i, (d, ds)) in dst.into_iter().enumerate() {
                    let p = &self.planes[i];
                    copy_rows(self.plane_bytes(i), p.stride, d, ds, p.row_bytes, p.height);
                }
            }
            out
        };
        out.timestamp = self.timestamp;
        out.metadata = self.metadata.clone();
        out
    }

    /// The readable bytes of plane `i < self.planes.len()`.
    fn plane_bytes(&self, i: usize) -> &[u8] {
        let p = &self.planes[i];
        // SAFETY: see `plane_data`.
        unsafe { std::slice::from_raw_parts(p.ptr, p.len) }
    }

    /// The frame in `format`: a copy (shared where possible) for the same
    /// format, else converted pixels in memory of their own. Timestamp and
    /// metadata carry over. MJPEG and compressed frames cannot be converted.
    pub fn convert(&self, format: Format) -> Result<VideoFrame> {
        if format == self.format {
            return Ok(self.copy());
        }
        if self.format.is_compressed() || format.is_compressed() {
            return Err(Error::invalid(format!(
                "cannot convert {} to {format}: encoded frames are not decoded here",
                self.format
            )));
        }
        let mut out = match (self.format.rgb_layout(), format.rgb_layout()) {
            (Some(from), Some(to)) => {
                let mut out = Self::alloc(format, self.width, self.height);
                let (w, h) = (self.width, self.height);
                let src = (self.plane_bytes(0), self.planes[0].stride);
                if let Some((dst, ds)) = out.planes_mut()?.pop() {
                    shuffle_rgb(src, from, (dst, ds), to, w, h);
                }
                out
            }
            _ => self.to_i420()?.i420_to(format)?,
        };
        out.timestamp = self.timestamp;
        out.metadata = self.metadata.clone();
        Ok(out)
    }

    /// Writes this (uncompressed) frame's planes into the caller's:
    /// `dst[i]` receives plane `i` with stride `strides[i]`, which must be at
    /// least the plane's row size; each slice must hold
    /// [`Format::plane_span`] bytes. Nothing is written on failure.
    pub fn write_planes(&self, dst: &mut [&mut [u8]], strides: &[usize]) -> Result<()> {
        let n = self.planes.len();
        if self.format.is_compressed() {
            return Err(Error::invalid(format!(
                "a {} frame has no planes of pixels",
                self.format
            )));
        }
        if dst.len() < n || strides.len() < n {
            return Err(Error::invalid(format!(
                "a {} frame has {n} planes",
                self.format
            )));
        }
        for (i, (d, &stride)) in dst.iter().zip(strides).enumerate().take(n) {
            let p = &self.planes[i];
            if stride < p.row_bytes || d.len() < p.stride_span(stride) {
                return Err(Error::invalid(format!(
                    "destination plane {i} (stride {stride}, {} bytes) is too small for a \
                     {}x{} {} frame",
                    d.len(),
                    self.width,
                    self.height,
                    self.format
                )));
            }
        }
        for (i, (d, &stride)) in dst.iter_mut().zip(strides).enumerate().take(n) {
            let p = &self.planes[i];
            copy_rows(
                self.plane_bytes(i),
                p.stride,
                d,
                stride,
                p.row_bytes,
                p.height,
            );
        }
        Ok(())
    }

    /// This I420 frame as the crate's planar image.
    fn planar_image(&self) -> YuvPlanarImage<'_, u8> {
        YuvPlanarImage {
            y_plane: self.plane_bytes(0),
            y_stride: self.planes[0].stride as u32,
            u_plane: self.plane_bytes(1),
            u_stride: self.planes[1].stride as u32,
            v_plane: self.plane_bytes(2),
            v_stride: self.planes[2].stride as u32,
            width: self.width,
            height: self.height,
        }
    }

    /// This uncompressed frame as I420 (itself when it already is).
    fn to_i420(&self) -> Result<Cow<'_, VideoFrame>> {
        if self.format == Format::I420 {
            return Ok(Cow::Borrowed(self));
        }
        let (w, h) = (self.width, self.height);
        let mut out = Self::alloc(Format::I420, w, h);
        let mut planes = out.planes_mut()?.into_iter();
        let (Some((y, ys)), Some((u, us)), Some((v, vs))) =
            (planes.next(), planes.next(), planes.next())
        else {
            return Err(Error::internal("an I420 frame without three planes"));
        };
        let mut img = YuvPlanarImageMut {
            y_plane: BufferStoreMut::Borrowed(y),
            y_stride: ys as u32,
            u_plane: BufferStoreMut::Borrowed(u),
            u_stride: us as u32,
            v_plane: BufferStoreMut::Borrowed(v),
            v_stride: vs as u32,
            width: w,
            height: h,
        };
        let src0 = (self.plane_bytes(0), self.planes[0].stride);
        match self.format {
            Format::Nv12 | Format::Nv21 => {
                let y = img.y_plane.borrow_mut();
                copy_rows(src0.0, src0.1, y, ys, w as usize, h as usize);
                let uv = &self.planes[1];
                let (u, v) = (img.u_plane.borrow_mut(), img.v_plane.borrow_mut());
                let (first, second) = if self.format == Format::Nv12 {
                    (u, v)
                } else {
                    (v, u)
                };
                let src = (self.plane_bytes(1), uv.stride);
                deinterleave(src, (first, second, us), uv.width, uv.height);
            }
            Format::Yuy2 | Format::Uyvy => {
                // By hand: the crate's 4:2:2 packed to 4:2:0 skips the last
                // row of an odd height. Only bytes move; chroma of two rows
                // is averaged, as libyuv does.
                let order = if self.format == Format::Yuy2 {
                    [0, 1, 2, 3]
                } else {
                    [1, 0, 3, 2]
                };
                let (y, u, v) = (
                    img.y_plane.borrow_mut(),
                    img.u_plane.borrow_mut(),
                    img.v_plane.borrow_mut(),
                );
                packed422_to_i420(src0, order, (y, ys), (u, v, us), w as usize, h as usize);
            }
            Format::Argb32 => {
                yuv::bgra_to_yuv420(&mut img, src0.0, src0.1 as u32, RANGE, MATRIX, MODE)
                    .map_err(pixel_error)?
            }
            Format::Abgr32 => {
                yuv::rgba_to_yuv420(&mut img, src0.0, src0.1 as u32, RANGE, MATRIX, MODE)
                    .map_err(pixel_error)?
            }
            Format::Rgb24 => {
                yuv::bgr_to_yuv420(&mut img, src0.0, src0.1 as u32, RANGE, MATRIX, MODE)
                    .map_err(pixel_error)?
            }
            Format::Bgra32 | Format::Rgba32 => {
                // Alpha-first byte orders: to B,G,R,A (ARGB32) first.
                let bgra = self.convert(Format::Argb32)?;
                let src = (bgra.plane_bytes(0), bgra.planes[0].stride as u32);
                yuv::bgra_to_yuv420(&mut img, src.0, src.1, RANGE, MATRIX, MODE)
                    .map_err(pixel_error)?
            }
            Format::I420 | Format::Mjpeg | Format::Compressed => {
                return Err(Error::invalid(format!(
                    "cannot convert {} to I420",
                    self.format
                )))
            }
        }
        drop(img);
        Ok(Cow::Owned(out))
    }

    /// This I420 frame in `format` (uncompressed).
    fn i420_to(&self, format: Format) -> Result<VideoFrame> {
        if format == Format::I420 {
            return Ok(self.copy());
        }
        let (w, h) = (self.width, self.height);
        let src = self.planar_image();
        if matches!(format, Format::Bgra32 | Format::Rgba32) {
            // Alpha-first byte orders: from B,G,R,A (ARGB32).
            return self.i420_to(Format::Argb32)?.convert(format);
        }
        let mut out = Self::alloc(format, w, h);
        let mut planes = out.planes_mut()?;
        let r = match (format, planes.as_mut_slice()) {
            (Format::Nv12 | Format::Nv21, [(y, ys), (uv, uvs)]) => {
                copy_rows(
                    src.y_plane,
                    src.y_stride as usize,
                    y,
                    *ys,
                    w as usize,
                    h as usize,
                );
                let (u, v) = (
                    (src.u_plane, src.u_stride as usize),
                    (src.v_plane, src.v_stride as usize),
                );
                let (first, second) = if format == Format::Nv12 {
                    (u, v)
                } else {
                    (v, u)
                };
                interleave(
                    first,
                    second,
                    (uv, *uvs),
                    w.div_ceil(2) as usize,
                    h.div_ceil(2) as usize,
                );
                Ok(())
            }
            (Format::Yuy2 | Format::Uyvy, [(d, ds)]) => {
                let mut packed = YuvPackedImageMut {
                    yuy: BufferStoreMut::Borrowed(d),
                    yuy_stride: *ds as u32,
                    width: w,
                    height: h,
                };
                if format == Format::Yuy2 {
                    yuv::yuv420_to_yuyv422(&mut packed, &src)
                } else {
                    yuv::yuv420_to_uyvy422(&mut packed, &src)
                }
            }
            (Format::Argb32, [(d, ds)]) => yuv::yuv420_to_bgra(&src, d, *ds as u32, RANGE, MATRIX),
            (Format::Abgr32, [(d, ds)]) => yuv::yuv420_to_rgba(&src, d, *ds as u32, RANGE, MATRIX),
            (Format::Rgb24, [(d, ds)]) => yuv::yuv420_to_bgr(&src, d, *ds as u32, RANGE, MATRIX),
            _ => return Err(Error::invalid(format!("cannot convert I420 to {format}"))),
        };
        r.map_err(pixel_error)?;
        drop(planes);
        Ok(out)
    }
}

impl Clone for VideoFrame {
    /// As [`VideoFrame::copy`].
    fn clone(&self) -> Self {
        self.copy()
    }
}

/// Copies `height` rows of `row_bytes` between strided buffers.
fn copy_rows(
    src: &[u8],
    src_stride: usize,
    dst: &mut [u8],
    dst_stride: usize,
    row_bytes: usize,
    height: usize,
) {
    for row in 0..height {
        dst[row * dst_stride..][..row_bytes].copy_from_slice(&src[row * src_stride..][..row_bytes]);
    }
}

/// Unpacks 4:2:2 data (`order`: where Y0, U, Y1, V sit in each 4 bytes) to
/// I420, averaging the chroma of each pair of rows (the last row of an odd
/// height alone).
fn packed422_to_i420(
    (src, stride): (&[u8], usize),
    [oy0, ou, oy1, ov]: [usize; 4],
    (y, y_stride): (&mut [u8], usize),
    (u, v, uv_stride): (&mut [u8], &mut [u8], usize),
    width: usize,
    height: usize,
) {
    let pairs = width.div_ceil(2);
    for row in 0..height {
        let s = &src[row * stride..][..pairs * 4];
        let yr = &mut y[row * y_stride..][..width];
        for (k, px) in s.chunks_exact(4).enumerate() {
            yr[2 * k] = px[oy0];
            if 2 * k + 1 < width {
                yr[2 * k + 1] = px[oy1];
            }
        }
    }
    for crow in 0..height.div_ceil(2) {
        let r0 = &src[2 * crow * stride..][..pairs * 4];
        let r1 = if 2 * crow + 1 < height {
            &src[(2 * crow + 1) * stride..][..pairs * 4]
        } else {
            r0
        };
        let ur = &mut u[crow * uv_stride..][..pairs];
        let vr = &mut v[crow * uv_stride..][..pairs];
        for (k, (a, b)) in r0.chunks_exact(4).zip(r1.chunks_exact(4)).enumerate() {
            ur[k] = (u16::from(a[ou]) + u16::from(b[ou])).div_ceil(2) as u8;
            vr[k] = (u16::from(a[ov]) + u16::from(b[ov])).div_ceil(2) as u8;
        }
    }
}

/// Splits `pairs` x `rows` interleaved byte pairs into two planes (which
/// share a stride).
fn deinterleave(
    (src, src_stride): (&[u8], usize),
    (first, second, dst_stride): (&mut [u8], &mut [u8], usize),
    pairs: usize,
    rows: usize,
) {
    for row in 0..rows {
        let s = &src[row * src_stride..][..pairs * 2];
        let a = &mut first[row * dst_stride..][..pairs];
        let b = &mut second[row * dst_stride..][..pairs];
        for ((pair, x), y) in s.chunks_exact(2).zip(a.iter_mut()).zip(b.iter_mut()) {
            *x = pair[0];
            *y = pair[1];
        }
    }
}

/// Interleaves two planes into `pairs` x `rows` byte pairs.
fn interleave(
    (first, first_stride): (&[u8], usize),
    (second, second_stride): (&[u8], usize),
    (dst, dst_stride): (&mut [u8], usize),
    pairs: usize,
    rows: usize,
) {
    for row in 0..rows {
        let a = &first[row * first_stride..][..pairs];
        let b = &second[row * second_stride..][..pairs];
        let d = &mut dst[row * dst_stride..][..pairs * 2];
        for ((pair, x), y) in d.chunks_exact_mut(2).zip(a).zip(b) {
            pair[0] = *x;
            pair[1] = *y;
        }
    }
}

/// Moves RGB channels from one byte order to another (alpha 255 when the
/// source has none).
fn shuffle_rgb(
    (src, src_stride): (&[u8], usize),
    from: RgbLayout,
    (dst, dst_stride): (&mut [u8], usize),
    to: RgbLayout,
    width: u32,
    height: u32,
) {
    let w = width as usize;
    for row in 0..height as usize {
        let s = &src[row * src_stride..][..w * from.bytes];
        let d = &mut dst[row * dst_stride..][..w * to.bytes];
        for (sp, dp) in s.chunks_exact(from.bytes).zip(d.chunks_exact_mut(to.bytes)) {
            dp[to.r] = sp[from.r];
            dp[to.g] = sp[from.g];
            dp[to.b] = sp[from.b];
            if let Some(a) = to.a {
                dp[a] = from.a.map_or(255, |fa| sp[fa]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const UNCOMPRESSED: [Format; 10] = [
        Format::I420,
        Format::Nv12,
        Format::Nv21,
        Format::Yuy2,
        Format::Uyvy,
        Format::Argb32,
        Format::Bgra32,
        Format::Rgb24,
        Format::Abgr32,
        Format::Rgba32,
    ];

    /// A solid `w` x `h` frame of one RGB colour in `format` (an RGB format).
    fn solid(format: Format, w: i32, h: i32, (r, g, b, a): (u8, u8, u8, u8)) -> VideoFrame {
        let l = format.rgb_layout().expect("an RGB format");
        let mut px = vec![0u8; l.bytes];
        px[l.r] = r;
        px[l.g] = g;
        px[l.b] = b;
        if let Some(ai) = l.a {
            px[ai] = a;
        }
        let data: Vec<u8> = px
            .iter()
            .copied()
            .cycle()
            .take(l.bytes * (w * h) as usize)
            .collect();
        VideoFrame::from_contiguous(format, w, h, &data).unwrap()
    }

    /// The (r, g, b, a) of pixel (x, y) of an RGB frame.
    fn pixel(f: &VideoFrame, x: usize, y: usize) -> (u8, u8, u8, u8) {
        let l = f.format().rgb_layout().expect("an RGB frame");
        let stride = f.plane_stride(0).unwrap();
        let d = &f.plane_data(0).unwrap()[y * stride + x * l.bytes..];
        (d[l.r], d[l.g], d[l.b], l.a.map_or(255, |a| d[a]))
    }

    fn close(a: u8, b: u8, tolerance: u8) -> bool {
        a.abs_diff(b) <= tolerance
    }

    #[test]
    fn sdk_values_round_trip() {
        for f in Format::all() {
            assert_eq!(Format::from_sdk(f.sdk()), Some(f), "{f}");
        }
        let values: Vec<i32> = Format::all().map(Format::sdk).collect();
        assert_eq!(values, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
        for bad in [0, 12, 13, 254, 256, -1, i32::MAX] {
            assert_eq!(Format::from_sdk(bad), None, "{bad}");
        }
    }

    #[test]
    fn plane_geometry_of_an_odd_sized_frame() {
        // 5 x 3: chroma planes are 3 x 2 (rounded up).
        // (width, rows, stride) of each plane.
        type Planes = &'static [(usize, usize, usize)];
        let cases: [(Format, Planes); 8] = [
            (Format::I420, &[(5, 3, 5), (3, 2, 3), (3, 2, 3)]),
            (Format::Nv12, &[(5, 3, 5), (3, 2, 6)]),
            (Format::Nv21, &[(5, 3, 5), (3, 2, 6)]),
            (Format::Yuy2, &[(5, 3, 12)]),
            (Format::Uyvy, &[(5, 3, 12)]),
            (Format::Argb32, &[(5, 3, 20)]),
            (Format::Rgb24, &[(5, 3, 15)]),
            (Format::Rgba32, &[(5, 3, 20)]),
        ];
        for (format, planes) in cases {
            let size: usize = planes.iter().map(|(_, h, s)| h * s).sum();
            assert_eq!(format.frame_size(5, 3), size, "{format}");
            let f = VideoFrame::from_contiguous(format, 5, 3, &vec![7; size]).unwrap();
            assert_eq!(f.plane_count(), planes.len());
            assert_eq!(f.is_packed(), planes.len() == 1);
            assert!(f.is_contiguous());
            assert_eq!(f.buffer().unwrap().len(), size);
            for (i, &(w, h, stride)) in planes.iter().enumerate() {
                assert_eq!(f.plane_width(i).unwrap(), w, "{format} plane {i} width");
                assert_eq!(f.plane_height(i).unwrap(), h, "{format} plane {i} height");
                assert_eq!(
                    f.plane_stride(i).unwrap(),
                    stride,
                    "{format} plane {i} stride"
                );
                assert_eq!(
                    f.plane_size(i).unwrap(),
                    stride * h,
                    "{format} plane {i} size"
                );
            }
            assert!(
                f.plane(planes.len()).is_err(),
                "{format} has no plane {}",
                planes.len()
            );
        }
    }

    #[test]
    fn sizes_and_buffers_are_checked() {
        for (w, h) in [
            (0, 1),
            (1, 0),
            (-1, 4),
            (4, -1),
            (16385, 1),
            (1, 16385),
            (i32::MIN, 1),
        ] {
            assert!(
                VideoFrame::from_contiguous(Format::I420, w, h, &[0; 64]).is_err(),
                "{w}x{h}"
            );
        }
        assert!(VideoFrame::from_contiguous(Format::Argb32, 2, 2, &[0; 15]).is_err());
        assert!(VideoFrame::from_contiguous(Format::Argb32, 2, 2, &[0; 16]).is_ok());
        assert!(VideoFrame::from_contiguous(Format::Mjpeg, 2, 2, &[0; 16]).is_err());
        assert!(VideoFrame::compressed(Format::Mjpeg, 2, 2, &[]).is_err());
        assert!(VideoFrame::compressed(Format::I420, 2, 2, &[1]).is_err());
        let f = VideoFrame::from_contiguous(Format::Rgb24, 16384, 1, &vec![0; 16384 * 3]).unwrap();
        assert_eq!(f.width(), 16384);
        // A stride below the row, or zero, or negative.
        let plane = [0u8; 64];
        for stride in [0, -8, 7] {
            let r = unsafe {
                VideoFrame::from_planes(Format::Argb32, 2, 2, &[plane.as_ptr()], &[stride])
            };
            assert!(r.is_err(), "stride {stride}");
        }
        let r = unsafe {
            VideoFrame::from_planes(
                Format::I420,
                2,
                2,
                &[plane.as_ptr(), std::ptr::null(), plane.as_ptr()],
                &[2, 1, 1],
            )
        };
        assert!(r.is_err(), "a NULL plane");
    }

    #[test]
    fn metadata_holds_at_most_32_bytes() {
        let mut f = solid(Format::Argb32, 2, 2, (1, 2, 3, 4));
        assert!(f.metadata().is_empty());
        f.set_metadata(&[9; METADATA_MAX_SIZE]).unwrap();
        assert_eq!(f.metadata(), &[9; 32]);
        assert!(f.set_metadata(&[1; METADATA_MAX_SIZE + 1]).is_err());
        assert_eq!(f.metadata(), &[9; 32], "a refused set leaves the metadata");
        f.set_timestamp(-5);
        let c = f.convert(Format::I420).unwrap();
        assert_eq!(
            (c.metadata(), c.timestamp()),
            (&[9u8; 32][..], -5),
            "carried over"
        );
        f.set_metadata(&[]).unwrap();
        assert!(f.metadata().is_empty());
    }

    #[test]
    fn copies_share_and_mutable_copies_do_not() {
        let mut f = solid(Format::Argb32, 3, 2, (1, 2, 3, 4));
        assert!(f.is_writable());
        let mut shared = f.copy();
        assert_eq!(shared.plane_ptr(0).unwrap(), f.plane_ptr(0).unwrap());
        assert!(!f.is_writable() && !shared.is_writable());
        assert!(shared.plane_mut(0).is_err());
        let mut own = f.mutable_copy();
        assert_ne!(own.plane_ptr(0).unwrap(), f.plane_ptr(0).unwrap());
        own.plane_mut(0).unwrap()[0] = 200;
        assert_eq!(f.plane_data(0).unwrap()[0], 3, "the original is untouched");
        drop(shared);
        assert!(f.is_writable(), "alone again once the copy is gone");
    }

    #[test]
    fn lent_memory_is_released_once_after_the_last_shallow_copy() {
        static RELEASED: AtomicUsize = AtomicUsize::new(0);
        let data = [5u8; 16];
        let release: Release = Box::new(|| {
            RELEASED.fetch_add(1, Ordering::SeqCst);
        });
        let f = unsafe {
            VideoFrame::wrap_contiguous(
                Format::Argb32,
                2,
                2,
                data.as_ptr(),
                16,
                true,
                Some(release),
            )
        }
        .unwrap();
        assert_eq!(f.plane_ptr(0).unwrap(), data.as_ptr());
        let c = f.copy();
        assert_eq!(
            c.plane_ptr(0).unwrap(),
            data.as_ptr(),
            "shallow copyable: shared"
        );
        drop(f);
        assert_eq!(RELEASED.load(Ordering::SeqCst), 0);
        drop(c);
        assert_eq!(RELEASED.load(Ordering::SeqCst), 1);

        // Not shallow copyable: a copy has its own pixels and does not hold
        // the lent memory.
        static RELEASED2: AtomicUsize = AtomicUsize::new(0);
        let release: Release = Box::new(|| {
            RELEASED2.fetch_add(1, Ordering::SeqCst);
        });
        let f = unsafe {
            VideoFrame::wrap_contiguous(
                Format::Argb32,
                2,
                2,
                data.as_ptr(),
                16,
                false,
                Some(release),
            )
        }
        .unwrap();
        let c = f.copy();
        assert_ne!(c.plane_ptr(0).unwrap(), data.as_ptr());
        drop(f);
        assert_eq!(RELEASED2.load(Ordering::SeqCst), 1);
        assert_eq!(c.plane_data(0).unwrap(), &[5; 16]);

        // Refused: the release function is dropped, never run.
        static RELEASED3: AtomicUsize = AtomicUsize::new(0);
        let release: Release = Box::new(|| {
            RELEASED3.fetch_add(1, Ordering::SeqCst);
        });
        let r = unsafe {
            VideoFrame::wrap_contiguous(
                Format::Argb32,
                2,
                2,
                data.as_ptr(),
                15,
                true,
                Some(release),
            )
        };
        assert!(r.is_err());
        assert_eq!(RELEASED3.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn padded_separate_planes_are_read_row_by_row() {
        // 3 x 3 I420 with padded strides, planes in separate buffers.
        let y: Vec<u8> = (0..3 * 8).map(|i| i as u8).collect();
        let u = [100u8, 101, 0, 0, 102, 103]; // 2 x 2, stride 4 (last row short)
        let v = [200u8, 201, 0, 0, 202, 203];
        let lent = unsafe {
            VideoFrame::wrap_planes(
                Format::I420,
                3,
                3,
                &[y.as_ptr(), u.as_ptr(), v.as_ptr()],
                &[8, 4, 4],
                false,
                None,
            )
        }
        .unwrap();
        assert!(!lent.is_contiguous());
        assert!(lent.buffer().is_err());
        assert_eq!(lent.plane_size(0).unwrap(), 24);
        let tight = lent.mutable_copy();
        assert!(tight.is_contiguous());
        assert_eq!(
            tight.buffer().unwrap(),
            &[0, 1, 2, 8, 9, 10, 16, 17, 18, 100, 101, 102, 103, 200, 201, 202, 203]
        );
        // The copying constructor gives the same.
        let copied = unsafe {
            VideoFrame::from_planes(
                Format::I420,
                3,
                3,
                &[y.as_ptr(), u.as_ptr(), v.as_ptr()],
                &[8, 4, 4],
            )
        }
        .unwrap();
        assert_eq!(copied.buffer().unwrap(), tight.buffer().unwrap());
    }

    /// BT.601 limited range (Y, U, V) of (r, g, b), as libyuv computes.
    type Rgb = (u8, u8, u8);
    type Yuv = (u8, u8, u8);
    const COLOURS: [(Rgb, Yuv); 5] = [
        ((255, 0, 0), (82, 90, 240)),
        ((0, 255, 0), (145, 54, 34)),
        ((0, 0, 255), (41, 240, 110)),
        ((255, 255, 255), (235, 128, 128)),
        ((0, 0, 0), (16, 128, 128)),
    ];

    #[test]
    fn known_colours_to_i420_and_back_in_every_rgb_format() {
        for format in [
            Format::Argb32,
            Format::Bgra32,
            Format::Abgr32,
            Format::Rgba32,
            Format::Rgb24,
        ] {
            for ((r, g, b), (y, u, v)) in COLOURS {
                let what = format!("{format} ({r},{g},{b})");
                let f = solid(format, 4, 4, (r, g, b, 255));
                let i420 = f.convert(Format::I420).unwrap();
                assert_eq!(i420.format(), Format::I420);
                let (py, pu, pv) = (
                    i420.plane_data(0).unwrap(),
                    i420.plane_data(1).unwrap(),
                    i420.plane_data(2).unwrap(),
                );
                assert!(
                    py.iter().all(|&p| close(p, y, 2)),
                    "{what}: Y {py:?}, want {y}"
                );
                assert!(
                    pu.iter().all(|&p| close(p, u, 2)),
                    "{what}: U {pu:?}, want {u}"
                );
                assert!(
                    pv.iter().all(|&p| close(p, v, 2)),
                    "{what}: V {pv:?}, want {v}"
                );
                let back = i420.convert(format).unwrap();
                for (x, yy) in [(0, 0), (3, 3), (1, 2)] {
                    let (br, bg, bb, ba) = pixel(&back, x, yy);
                    assert!(
                        close(br, r, 3) && close(bg, g, 3) && close(bb, b, 3) && ba == 255,
                        "{what}: back as ({br},{bg},{bb},{ba})"
                    );
                }
            }
        }
    }

    #[test]
    fn rgb_byte_orders_follow_libyuv_names() {
        let argb = solid(Format::Argb32, 1, 1, (10, 20, 30, 40));
        assert_eq!(
            argb.plane_data(0).unwrap(),
            &[30, 20, 10, 40],
            "ARGB32 is B,G,R,A"
        );
        let expect: [(Format, &[u8]); 4] = [
            (Format::Bgra32, &[40, 10, 20, 30]),
            (Format::Abgr32, &[10, 20, 30, 40]),
            (Format::Rgba32, &[40, 30, 20, 10]),
            (Format::Rgb24, &[30, 20, 10]),
        ];
        for (format, bytes) in expect {
            let c = argb.convert(format).unwrap();
            assert_eq!(c.plane_data(0).unwrap(), bytes, "{format}");
            let back = c.convert(Format::Argb32).unwrap();
            let alpha = if format == Format::Rgb24 { 255 } else { 40 };
            assert_eq!(
                back.plane_data(0).unwrap(),
                &[30, 20, 10, alpha],
                "{format} back"
            );
        }
    }

    #[test]
    fn argb_through_i420_comes_back_within_tolerance() {
        // 2x2 blocks of one colour each, so that chroma subsampling loses
        // nothing; only rounding remains.
        let (w, h) = (8usize, 6usize);
        let mut data = vec![0u8; w * h * 4];
        let mut seed = 12345u32;
        for by in 0..h / 2 {
            for bx in 0..w / 2 {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                let c = seed.to_le_bytes();
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let o = ((by * 2 + dy) * w + bx * 2 + dx) * 4;
                    data[o..o + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
                }
            }
        }
        let f = VideoFrame::from_contiguous(Format::Argb32, w as i32, h as i32, &data).unwrap();
        let back = f
            .convert(Format::I420)
            .unwrap()
            .convert(Format::Argb32)
            .unwrap();
        let got = back.plane_data(0).unwrap();
        let worst = data
            .iter()
            .zip(got)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 4, "worst channel difference {worst}");
    }

    #[test]
    fn yuv_layouts_round_trip_through_i420_exactly() {
        // A 6 x 4 I420 frame with distinct bytes everywhere.
        let size = Format::I420.frame_size(6, 4);
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let f = VideoFrame::from_contiguous(Format::I420, 6, 4, &data).unwrap();
        for format in [Format::Nv12, Format::Nv21, Format::Yuy2, Format::Uyvy] {
            let other = f.convert(format).unwrap();
            let back = other.convert(Format::I420).unwrap();
            assert_eq!(back.buffer().unwrap(), &data[..], "{format}");
        }
        // NV12 / NV21 interleave U and V in their order.
        let nv12 = f.convert(Format::Nv12).unwrap();
        let nv21 = f.convert(Format::Nv21).unwrap();
        let (u0, v0) = (f.plane_data(1).unwrap()[0], f.plane_data(2).unwrap()[0]);
        assert_eq!(&nv12.plane_data(1).unwrap()[..2], &[u0, v0]);
        assert_eq!(&nv21.plane_data(1).unwrap()[..2], &[v0, u0]);
        // YUY2 is Y0 U Y1 V, UYVY is U Y0 V Y1.
        let (y0, y1) = (data[0], data[1]);
        assert_eq!(
            &f.convert(Format::Yuy2).unwrap().plane_data(0).unwrap()[..4],
            &[y0, u0, y1, v0]
        );
        assert_eq!(
            &f.convert(Format::Uyvy).unwrap().plane_data(0).unwrap()[..4],
            &[u0, y0, v0, y1]
        );
    }

    #[test]
    fn every_pair_of_formats_converts_at_odd_sizes() {
        for (w, h) in [(1, 1), (5, 3), (2, 7)] {
            for from in UNCOMPRESSED {
                let src = solid(Format::Argb32, w, h, (200, 100, 50, 255))
                    .convert(from)
                    .unwrap();
                for to in UNCOMPRESSED {
                    let out = src
                        .convert(to)
                        .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
                    assert_eq!((out.format(), out.width(), out.height()), (to, w, h));
                    let rgb = out.convert(Format::Argb32).unwrap();
                    let (r, g, b, _) = pixel(&rgb, (w - 1) as usize, (h - 1) as usize);
                    assert!(
                        close(r, 200, 6) && close(g, 100, 6) && close(b, 50, 6),
                        "{w}x{h} {from} -> {to}: ({r},{g},{b})"
                    );
                }
            }
        }
    }

    #[test]
    fn encoded_frames_are_kept_but_never_converted() {
        let f = VideoFrame::compressed(Format::Mjpeg, 640, 480, &[0xff, 0xd8, 0xff, 0xd9]).unwrap();
        assert_eq!(
            (
                f.plane_count(),
                f.plane_size(0).unwrap(),
                f.plane_stride(0).unwrap()
            ),
            (1, 4, 0)
        );
        assert!(f.is_packed() && f.is_contiguous());
        assert_eq!(f.buffer().unwrap(), &[0xff, 0xd8, 0xff, 0xd9]);
        assert!(f.convert(Format::I420).is_err());
        assert!(solid(Format::Argb32, 2, 2, (0, 0, 0, 0))
            .convert(Format::Compressed)
            .is_err());
        assert_eq!(
            f.convert(Format::Mjpeg).unwrap().buffer().unwrap(),
            f.buffer().unwrap()
        );
        assert_eq!(f.mutable_copy().buffer().unwrap(), f.buffer().unwrap());
    }

    #[test]
    fn set_format_only_relabels_alike_layouts() {
        let mut f = solid(Format::Argb32, 2, 2, (1, 2, 3, 4));
        f.set_format(Format::Bgra32).unwrap();
        assert_eq!(f.format(), Format::Bgra32);
        assert!(f.set_format(Format::I420).is_err());
        assert!(f.set_format(Format::Rgb24).is_err());
        assert_eq!(f.format(), Format::Bgra32);
        let mut nv = f.convert(Format::Nv12).unwrap();
        nv.set_format(Format::Nv21).unwrap();
        assert!(nv.set_format(Format::Yuy2).is_err());
    }

    #[test]
    fn writing_planes_into_caller_buffers() {
        let f = solid(Format::Argb32, 3, 2, (255, 0, 0, 255))
            .convert(Format::I420)
            .unwrap();
        let (mut y, mut u, mut v) = (vec![0u8; 4 * 2], vec![0u8; 4], vec![0u8; 4]);
        {
            let mut dst: Vec<&mut [u8]> = vec![&mut y, &mut u, &mut v];
            f.write_planes(&mut dst, &[4, 2, 2]).unwrap();
        }
        assert!(
            close(y[0], 82, 2) && close(y[6], 82, 2) && y[3] == 0 && y[7] == 0,
            "{y:?}"
        );
        assert!(close(u[0], 90, 2) && close(v[1], 240, 2));
        // Too small, or a stride below the row: nothing written.
        let mut small = vec![0u8; 5];
        let mut dst: Vec<&mut [u8]> = vec![&mut small, &mut u, &mut v];
        assert!(f.write_planes(&mut dst, &[3, 2, 2]).is_err());
        assert!(small.iter().all(|&b| b == 0));
        assert_eq!(Format::I420.plane_span(0, 3, 2, 2), None);
        assert_eq!(Format::I420.plane_span(0, 3, 2, 4), Some(7));
    }
}
