//! The media part of the C ABI: a publisher is a real object whose settings
//! and flags read back; publishing, subscribing and force-muting fail with
//! their documented codes on a connected session that keeps working;
//! every stream, subscriber, device, capturer, codec and transformer
//! function returns its failure value for NULL and for dangling pointers
//! without touching them; each media failure is logged once, naming the
//! function; the structs have the SDK's layout.
//!
//! The logger is installed (at warning level) before any test calls a
//! library function, and stays, so every function's first media failure in
//! this process is logged and each test can count the lines of its own
//! functions.

mod ffi_support;

use std::ffi::{c_char, c_void, CStr};
use std::mem::{offset_of, size_of};
use std::sync::{Mutex, Once};

use ffi_support::*;
use opentok::ffi::otc_session_error_code::*;
use opentok::ffi::*;

const MEDIA: otc_status = otc_error_code::OT_UNABLE_TO_ACCESS_MEDIA_ENGINE as otc_status;

fn invalid() -> otc_status {
    code(OTC_SESSION_NULL_OR_INVALID_PARAMETER)
}

static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

extern "C" fn logger(msg: *const c_char) {
    let m = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    LOGS.lock().unwrap().push(m);
}

/// Installs the logger once per process, before anything else is called.
fn logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        otc_log_set_logger_callback(Some(logger));
        otc_log_enable(OTC_LOG_LEVEL_WARN);
    });
    init();
}

/// How many log lines report a failure of `function` with `code` (lines
/// read "... <function>: <reason> (error <code>)").
fn lines_of(function: &str, code: otc_status) -> usize {
    let (name, code) = (format!(" {function}: "), format!("(error {code})"));
    LOGS.lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(&name) && m.ends_with(&code))
        .count()
}

/// Every function named reported "no media" exactly once, however often it
/// was called.
fn assert_logged_once(functions: &[&str]) {
    for f in functions {
        assert_eq!(lines_of(f, MEDIA), 1, "\"no media\" log lines of {f}");
    }
}

/// Pointers no library object can be behind: NULL, a small integer, and
/// the address of a buffer of garbage.
fn bad_pointers<T>(garbage: &mut [u8; 64]) -> [*mut T; 3] {
    [
        std::ptr::null_mut(),
        0x10 as *mut T,
        garbage.as_mut_ptr() as *mut T,
    ]
}

fn zeroed<T>() -> T {
    // SAFETY: used only for the SDK's C structs (pointers, numbers and
    // optional function pointers), for which all-zero is valid.
    unsafe { std::mem::zeroed() }
}

unsafe fn text(p: *const c_char) -> String {
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

// ---- publisher ---------------------------------------------------------------

#[test]
fn publisher_settings_store_and_every_setter_refuses_null_settings() {
    logging();
    let s = otc_publisher_settings_new();
    assert!(!s.is_null());
    let name = cs("cam");
    let capturer: otc_video_capturer_callbacks = zeroed();
    type BoolSetter = unsafe extern "C" fn(*mut otc_publisher_settings, otc_bool) -> otc_status;
    let bool_setters: [(&str, BoolSetter); 8] = [
        ("audio_track", otc_publisher_settings_set_audio_track),
        ("video_track", otc_publisher_settings_set_video_track),
        ("stereo", otc_publisher_settings_set_stereo),
        ("opus_dtx", otc_publisher_settings_set_opus_dtx),
        (
            "auto_gain_control",
            otc_publisher_settings_set_auto_gain_control,
        ),
        (
            "noise_suppression",
            otc_publisher_settings_set_noise_suppression,
        ),
        (
            "echo_cancellation",
            otc_publisher_settings_set_echo_cancellation,
        ),
        (
            "scalable_screenshare",
            otc_publisher_settings_set_scalable_screenshare,
        ),
    ];
    unsafe {
        for (what, f) in bool_setters {
            assert_eq!(f(s, OTC_TRUE), OTC_SUCCESS, "{what}");
            assert_eq!(f(s, 42), OTC_SUCCESS, "{what}: any non-zero is true");
            assert_eq!(f(std::ptr::null_mut(), OTC_TRUE), invalid(), "{what}(NULL)");
        }
        assert_eq!(
            otc_publisher_settings_set_name(s, name.as_ptr()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_name(s, std::ptr::null()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_name(s, name.as_ptr()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_name(std::ptr::null_mut(), name.as_ptr()),
            invalid()
        );
        assert_eq!(
            otc_publisher_settings_set_video_capturer(s, &capturer),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_video_capturer(s, std::ptr::null()),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_video_capturer(std::ptr::null_mut(), &capturer),
            invalid()
        );
        for r in 0..4 {
            assert_eq!(
                otc_publisher_settings_set_default_camera_capture_resolution(s, r),
                OTC_SUCCESS
            );
        }
        for bad in [-1, 4, i32::MIN, i32::MAX] {
            assert_eq!(
                otc_publisher_settings_set_default_camera_capture_resolution(s, bad),
                invalid(),
                "resolution {bad}"
            );
        }
        assert_eq!(
            otc_publisher_settings_set_default_camera_capture_resolution(std::ptr::null_mut(), 0),
            invalid()
        );
        // Tracks off: the publisher starts with nothing to publish.
        assert_eq!(
            otc_publisher_settings_set_audio_track(s, OTC_FALSE),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_settings_set_video_track(s, OTC_FALSE),
            OTC_SUCCESS
        );

        let mut cb: otc_publisher_callbacks = zeroed();
        let marker = 7u8;
        cb.user_data = &marker as *const u8 as *mut c_void;
        let p = otc_publisher_new_with_settings(&cb, s);
        assert!(!p.is_null());
        // The publisher kept its own copy.
        assert_eq!(otc_publisher_settings_delete(s), OTC_SUCCESS);
        assert_eq!(text(otc_publisher_get_name(p)), "cam");
        assert_eq!(otc_publisher_get_user_data(p), cb.user_data);
        assert_eq!(otc_publisher_get_publish_audio(p), OTC_FALSE);
        assert_eq!(otc_publisher_get_publish_video(p), OTC_FALSE);
        assert_eq!(otc_publisher_delete(p), OTC_SUCCESS);

        // NULL settings: the defaults.
        let p = otc_publisher_new_with_settings(&cb, std::ptr::null_mut());
        assert!(!p.is_null());
        assert_eq!(text(otc_publisher_get_name(p)), "");
        assert_eq!(otc_publisher_get_publish_audio(p), OTC_TRUE);
        assert_eq!(otc_publisher_get_publish_video(p), OTC_TRUE);
        assert_eq!(otc_publisher_delete(p), OTC_SUCCESS);

        assert!(otc_publisher_new_with_settings(std::ptr::null(), std::ptr::null_mut()).is_null());
        assert_eq!(
            otc_publisher_settings_delete(std::ptr::null_mut()),
            invalid()
        );
    }
}

#[test]
fn publisher_life_cycle_getters_read_back_what_setters_stored() {
    logging();
    let name = cs("Bob's camera");
    let mut cb: otc_publisher_callbacks = zeroed();
    let marker = 1u32;
    cb.user_data = &marker as *const u32 as *mut c_void;
    let capturer: otc_video_capturer_callbacks = zeroed();
    unsafe {
        assert!(
            otc_publisher_new(name.as_ptr(), std::ptr::null(), std::ptr::null()).is_null(),
            "NULL callbacks are refused"
        );
        let p = otc_publisher_new(name.as_ptr(), &capturer, &cb);
        let q = otc_publisher_new(std::ptr::null(), std::ptr::null(), &cb);
        assert!(!p.is_null() && !q.is_null());

        assert_eq!(text(otc_publisher_get_name(p)), "Bob's camera");
        assert_eq!(text(otc_publisher_get_name(q)), "");
        assert_eq!(otc_publisher_get_user_data(p), cb.user_data);
        let id = text(otc_publisher_get_publisher_id(p));
        assert_eq!(id.len(), 36, "{id}");
        assert_eq!(text(otc_publisher_get_publisher_id(p)), id, "stable");
        assert_ne!(text(otc_publisher_get_publisher_id(q)), id, "distinct");
        assert!(otc_publisher_get_stream(p).is_null(), "never published");
        assert!(otc_publisher_get_session(p).is_null(), "never published");

        // Flags: defaults, then what was set.
        assert_eq!(otc_publisher_get_publish_audio(p), OTC_TRUE);
        assert_eq!(otc_publisher_get_publish_video(p), OTC_TRUE);
        assert_eq!(otc_publisher_get_publish_captions(p), OTC_FALSE);
        assert_eq!(otc_publisher_get_audio_fallback_enabled(p), OTC_TRUE);
        assert_eq!(otc_publisher_set_publish_audio(p, OTC_FALSE), OTC_SUCCESS);
        assert_eq!(otc_publisher_set_publish_video(p, OTC_FALSE), OTC_SUCCESS);
        assert_eq!(otc_publisher_set_publish_captions(p, OTC_TRUE), OTC_SUCCESS);
        assert_eq!(
            otc_publisher_set_audio_fallback_enabled(p, OTC_FALSE),
            OTC_SUCCESS
        );
        assert_eq!(otc_publisher_get_publish_audio(p), OTC_FALSE);
        assert_eq!(otc_publisher_get_publish_video(p), OTC_FALSE);
        assert_eq!(otc_publisher_get_publish_captions(p), OTC_TRUE);
        assert_eq!(otc_publisher_get_audio_fallback_enabled(p), OTC_FALSE);
        assert_eq!(
            otc_publisher_get_publish_audio(q),
            OTC_TRUE,
            "q is separate"
        );

        // Video type: members only.
        use otc_publisher_video_type::*;
        assert_eq!(
            otc_publisher_get_video_type(p),
            OTC_PUBLISHER_VIDEO_TYPE_CAMERA
        );
        assert_eq!(
            otc_publisher_set_video_type(p, OTC_PUBLISHER_VIDEO_TYPE_SCREEN as i32),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_get_video_type(p),
            OTC_PUBLISHER_VIDEO_TYPE_SCREEN
        );
        for bad in [0, 3, -1, i32::MAX] {
            assert_eq!(otc_publisher_set_video_type(p, bad), invalid(), "{bad}");
        }
        assert_eq!(
            otc_publisher_get_video_type(p),
            OTC_PUBLISHER_VIDEO_TYPE_SCREEN
        );

        // Bitrates: a preset clears the maximum, a maximum makes it CUSTOM.
        use otc_video_bitrate_preset::*;
        assert_eq!(
            otc_publisher_get_video_bitrate_preset(p),
            OTC_VIDEO_BITRATE_PRESET_DEFAULT
        );
        assert_eq!(otc_publisher_get_max_video_bitrate(p), 0);
        assert_eq!(otc_publisher_set_max_video_bitrate(p, 500_000), OTC_SUCCESS);
        assert_eq!(otc_publisher_get_max_video_bitrate(p), 500_000);
        assert_eq!(
            otc_publisher_get_video_bitrate_preset(p),
            OTC_VIDEO_BITRATE_PRESET_CUSTOM
        );
        for bad in [0, 4_999, 10_000_001, u32::MAX] {
            assert_eq!(
                otc_publisher_set_max_video_bitrate(p, bad),
                invalid(),
                "{bad}"
            );
        }
        assert_eq!(otc_publisher_get_max_video_bitrate(p), 500_000);
        assert_eq!(
            otc_publisher_set_video_bitrate_preset(p, OTC_VIDEO_BITRATE_PRESET_BW_SAVER as i32),
            OTC_SUCCESS
        );
        assert_eq!(
            otc_publisher_get_video_bitrate_preset(p),
            OTC_VIDEO_BITRATE_PRESET_BW_SAVER
        );
        assert_eq!(otc_publisher_get_max_video_bitrate(p), 0);
        for bad in [OTC_VIDEO_BITRATE_PRESET_CUSTOM as i32, 4, -1] {
            assert_eq!(
                otc_publisher_set_video_bitrate_preset(p, bad),
                invalid(),
                "{bad}"
            );
        }
        assert_eq!(
            otc_publisher_get_video_bitrate_preset(p),
            OTC_VIDEO_BITRATE_PRESET_BW_SAVER
        );
        assert_eq!(otc_publisher_set_max_audio_bitrate(p, 40_000), OTC_SUCCESS);
        for bad in [0, 5_999, 510_001, u32::MAX] {
            assert_eq!(
                otc_publisher_set_max_audio_bitrate(p, bad),
                invalid(),
                "{bad}"
            );
        }

        // What needs media fails, even on a live publisher.
        let mut vt: [*mut otc_video_transformer; 1] = [std::ptr::null_mut()];
        let mut at: [*mut otc_audio_transformer; 1] = [std::ptr::null_mut()];
        assert_eq!(
            otc_publisher_set_video_transformers(p, vt.as_mut_ptr(), 1),
            MEDIA
        );
        assert_eq!(
            otc_publisher_set_audio_transformers(p, at.as_mut_ptr(), usize::MAX),
            MEDIA
        );
        assert_eq!(otc_publisher_set_rtc_stats_report_cb(p, zeroed()), MEDIA);
        assert_eq!(otc_publisher_get_rtc_stats_report(p), MEDIA);

        assert_eq!(otc_publisher_delete(p), OTC_SUCCESS);
        assert_eq!(otc_publisher_delete(q), OTC_SUCCESS);
    }
}

#[test]
fn publisher_functions_refuse_a_null_publisher() {
    logging();
    let n: *mut otc_publisher = std::ptr::null_mut();
    unsafe {
        assert_eq!(otc_publisher_delete(n), invalid());
        assert!(otc_publisher_get_stream(n).is_null());
        assert!(otc_publisher_get_session(n).is_null());
        assert!(otc_publisher_get_name(n).is_null());
        assert!(otc_publisher_get_publisher_id(n).is_null());
        assert!(otc_publisher_get_user_data(n).is_null());
        assert_eq!(otc_publisher_set_publish_audio(n, OTC_TRUE), invalid());
        assert_eq!(otc_publisher_set_publish_video(n, OTC_TRUE), invalid());
        assert_eq!(otc_publisher_set_publish_captions(n, OTC_TRUE), invalid());
        assert_eq!(
            otc_publisher_set_audio_fallback_enabled(n, OTC_TRUE),
            invalid()
        );
        assert_eq!(otc_publisher_set_video_type(n, 1), invalid());
        assert_eq!(otc_publisher_set_video_bitrate_preset(n, 0), invalid());
        assert_eq!(otc_publisher_set_max_video_bitrate(n, 100_000), invalid());
        assert_eq!(otc_publisher_set_max_audio_bitrate(n, 40_000), invalid());
        assert_eq!(otc_publisher_get_publish_audio(n), OTC_FALSE);
        assert_eq!(otc_publisher_get_publish_video(n), OTC_FALSE);
        assert_eq!(otc_publisher_get_publish_captions(n), OTC_FALSE);
        assert_eq!(otc_publisher_get_audio_fallback_enabled(n), OTC_FALSE);
        assert_eq!(
            otc_publisher_get_video_type(n),
            otc_publisher_video_type::OTC_PUBLISHER_VIDEO_TYPE_CAMERA
        );
        assert_eq!(
            otc_publisher_get_video_bitrate_preset(n),
            otc_video_bitrate_preset::OTC_VIDEO_BITRATE_PRESET_DEFAULT
        );
        assert_eq!(otc_publisher_get_max_video_bitrate(n), 0);
        assert_eq!(
            otc_publisher_set_video_transformers(n, std::ptr::null_mut(), 0),
            MEDIA
        );
        assert_eq!(
            otc_publisher_set_audio_transformers(n, std::ptr::null_mut(), 0),
            MEDIA
        );
        assert_eq!(otc_publisher_set_rtc_stats_report_cb(n, zeroed()), MEDIA);
        assert_eq!(otc_publisher_get_rtc_stats_report(n), MEDIA);
    }
    // A refused call is logged every time (it is an error, not "no media").
    let before = lines_of("otc_publisher_get_name", invalid());
    assert!(before >= 1);
    unsafe { otc_publisher_get_name(n) };
    assert_eq!(lines_of("otc_publisher_get_name", invalid()), before + 1);
}

// ---- session.h media functions --------------------------------------------------

#[test]
fn publish_fails_on_a_connected_session_which_keeps_working() {
    logging();
    let sid = server().new_session_id();
    let a = Client::join(&sid, Opts::default());
    let b = Client::join(&sid, Opts::default());
    let cb: otc_publisher_callbacks = zeroed();
    let name = cs("pub");
    let p = unsafe { otc_publisher_new(name.as_ptr(), std::ptr::null(), &cb) };
    assert!(!p.is_null());
    let mut garbage = [0xa5u8; 64];
    let stray = 0x1000 as *mut otc_session;

    assert_eq!(otc_session_publish(a.session, p), MEDIA);
    assert_eq!(otc_session_publish(a.session, p), MEDIA, "again");
    assert_eq!(
        otc_session_publish(a.session, std::ptr::null_mut()),
        invalid()
    );
    assert_eq!(otc_session_publish(std::ptr::null_mut(), p), invalid());
    assert_eq!(otc_session_publish(stray, p), invalid());
    assert_eq!(
        otc_session_unpublish(a.session, p),
        code(OTC_SESSION_PUBLISHER_NOT_FOUND)
    );
    assert_eq!(
        otc_session_unpublish(a.session, std::ptr::null_mut()),
        invalid()
    );
    assert_eq!(otc_session_unpublish(std::ptr::null_mut(), p), invalid());
    for s in bad_pointers::<otc_subscriber>(&mut garbage) {
        let want = if s.is_null() { invalid() } else { MEDIA };
        assert_eq!(otc_session_subscribe(a.session, s), want);
        let want = if s.is_null() {
            invalid()
        } else {
            code(OTC_SESSION_SUBSCRIBER_NOT_FOUND)
        };
        assert_eq!(otc_session_unsubscribe(a.session, s), want);
        assert_eq!(otc_session_subscribe(std::ptr::null_mut(), s), invalid());
        assert_eq!(otc_session_unsubscribe(stray, s), invalid());
    }

    // Force mute: connected session, valid arguments, then no streams.
    let id = cs("some-stream");
    let mut ids = [id.as_ptr()];
    assert_eq!(
        otc_session_force_mute_all(a.session, std::ptr::null_mut(), 0),
        MEDIA
    );
    assert_eq!(
        otc_session_force_mute_all(a.session, ids.as_mut_ptr(), 1),
        MEDIA
    );
    assert_eq!(
        otc_session_force_mute_all(a.session, ids.as_mut_ptr(), -1),
        invalid()
    );
    assert_eq!(
        otc_session_force_mute_all(a.session, std::ptr::null_mut(), 3),
        invalid()
    );
    assert_eq!(
        otc_session_force_mute_all(std::ptr::null_mut(), ids.as_mut_ptr(), 1),
        invalid()
    );
    assert_eq!(otc_session_force_mute_stream(a.session, id.as_ptr()), MEDIA);
    assert_eq!(
        otc_session_force_mute_stream(a.session, std::ptr::null()),
        invalid()
    );
    assert_eq!(otc_session_force_mute_stream(stray, id.as_ptr()), invalid());
    assert_eq!(otc_session_disable_force_mute(a.session), MEDIA);
    assert_eq!(
        otc_session_disable_force_mute(std::ptr::null_mut()),
        invalid()
    );

    // The session is still connected and signals still flow both ways.
    assert!(!otc_session_get_connection(a.session).is_null());
    assert_eq!(a.broadcast("after", "publish"), OTC_SUCCESS);
    b.rec.wait_until("the signal sent after publishing", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { t, d, .. } if t == "after" && d == "publish"))
    });
    assert_eq!(b.broadcast("reply", "ok"), OTC_SUCCESS);
    a.rec.wait_until("the reply", |e| {
        e.iter()
            .any(|x| matches!(x, Ev::Signal { t, .. } if t == "reply"))
    });
    assert!(
        !a.rec
            .snapshot()
            .iter()
            .any(|x| matches!(x, Ev::Error { .. })),
        "no on_error: {:?}",
        a.rec.snapshot()
    );
    assert_eq!(unsafe { otc_publisher_delete(p) }, OTC_SUCCESS);
    assert_logged_once(&[
        "otc_session_publish",
        "otc_session_subscribe",
        "otc_session_force_mute_all",
        "otc_session_force_mute_stream",
        "otc_session_disable_force_mute",
    ]);
}

#[test]
fn media_session_functions_need_a_connected_session() {
    logging();
    let sid = server().new_session_id();
    let c = Client::new(&sid, false);
    let cb: otc_publisher_callbacks = zeroed();
    let p = unsafe { otc_publisher_new(std::ptr::null(), std::ptr::null(), &cb) };
    let id = cs("x");
    let not_connected = code(OTC_SESSION_NOT_CONNECTED);
    assert_eq!(otc_session_publish(c.session, p), not_connected);
    assert_eq!(
        otc_session_subscribe(c.session, 0x10 as *mut otc_subscriber),
        not_connected
    );
    assert_eq!(
        otc_session_force_mute_all(c.session, std::ptr::null_mut(), 0),
        not_connected
    );
    assert_eq!(
        otc_session_force_mute_stream(c.session, id.as_ptr()),
        not_connected
    );
    assert_eq!(otc_session_disable_force_mute(c.session), not_connected);
    // Nothing can be published, connected or not.
    assert_eq!(
        otc_session_unpublish(c.session, p),
        code(OTC_SESSION_PUBLISHER_NOT_FOUND)
    );
    assert_eq!(unsafe { otc_publisher_delete(p) }, OTC_SUCCESS);
}

// ---- streams and subscribers --------------------------------------------------------

#[test]
fn stream_functions_fail_for_any_pointer_without_reading_it() {
    logging();
    let mut garbage = [0x5au8; 64];
    for s in bad_pointers::<otc_stream>(&mut garbage) {
        let c = s as *const otc_stream;
        assert!(otc_stream_get_id(c).is_null());
        assert!(otc_stream_get_name(c).is_null());
        assert_eq!(otc_stream_has_video_track(c), OTC_FALSE);
        assert_eq!(otc_stream_has_video(c), OTC_FALSE);
        assert_eq!(otc_stream_has_audio_track(c), OTC_FALSE);
        assert_eq!(otc_stream_has_audio(c), OTC_FALSE);
        assert_eq!(otc_stream_has_captions(c), OTC_FALSE);
        assert!(otc_stream_copy(c).is_null());
        assert_eq!(otc_stream_delete(s), MEDIA);
        assert_eq!(otc_stream_get_video_width(c), 0);
        assert_eq!(otc_stream_get_video_height(c), 0);
        assert_eq!(otc_stream_get_creation_time(c), 0);
        assert_eq!(
            otc_stream_get_video_type(c),
            otc_stream_video_type::OTC_STREAM_VIDEO_TYPE_CAMERA
        );
        assert!(otc_stream_get_connection(c).is_null());
    }
    assert!(garbage.iter().all(|b| *b == 0x5a), "nothing was written");
    assert_logged_once(&[
        "otc_stream_get_id",
        "otc_stream_get_name",
        "otc_stream_has_video_track",
        "otc_stream_has_video",
        "otc_stream_has_audio_track",
        "otc_stream_has_audio",
        "otc_stream_has_captions",
        "otc_stream_copy",
        "otc_stream_delete",
        "otc_stream_get_video_width",
        "otc_stream_get_video_height",
        "otc_stream_get_creation_time",
        "otc_stream_get_video_type",
        "otc_stream_get_connection",
    ]);
}

#[test]
fn subscriber_functions_fail_for_any_pointer_without_reading_or_writing() {
    logging();
    let mut garbage = [0x3cu8; 64];
    let mut stream_garbage = [0x3cu8; 64];
    let cb: otc_subscriber_callbacks = zeroed();
    for stream in bad_pointers::<otc_stream>(&mut stream_garbage) {
        assert!(otc_subscriber_new(stream, &cb).is_null());
        assert!(otc_subscriber_new(stream, std::ptr::null()).is_null());
    }
    for s in bad_pointers::<otc_subscriber>(&mut garbage) {
        let c = s as *const otc_subscriber;
        let (mut w, mut h, mut vol, mut fps) = (11u32, 12u32, 0.5f64, 7.5f32);
        assert_eq!(otc_subscriber_delete(s), MEDIA);
        assert!(otc_subscriber_get_stream(c).is_null());
        assert_eq!(otc_subscriber_set_subscribe_to_video(s, OTC_TRUE), MEDIA);
        assert_eq!(otc_subscriber_set_subscribe_to_audio(s, OTC_FALSE), MEDIA);
        assert_eq!(otc_subscriber_set_subscribe_to_captions(s, OTC_TRUE), MEDIA);
        assert_eq!(otc_subscriber_get_subscribe_to_video(c), OTC_FALSE);
        assert_eq!(otc_subscriber_get_subscribe_to_audio(c), OTC_FALSE);
        assert_eq!(otc_subscriber_get_subscribe_to_captions(c), OTC_FALSE);
        assert!(otc_subscriber_get_session(c).is_null());
        assert_eq!(
            otc_subscriber_set_preferred_resolution(s, u32::MAX, 0),
            MEDIA
        );
        assert_eq!(
            otc_subscriber_get_preferred_resolution(c, &mut w, &mut h),
            MEDIA
        );
        assert_eq!(
            otc_subscriber_get_preferred_resolution(c, std::ptr::null_mut(), 0x8 as *mut u32),
            MEDIA
        );
        assert_eq!(otc_subscriber_set_audio_volume(s, f64::NAN), MEDIA);
        assert_eq!(otc_subscriber_get_audio_volume(c, &mut vol), MEDIA);
        assert_eq!(otc_subscriber_set_preferred_framerate(s, -1.0), MEDIA);
        assert_eq!(otc_subscriber_get_preferred_framerate(c, &mut fps), MEDIA);
        assert!(otc_subscriber_get_subscriber_id(c).is_null());
        assert!(otc_subscriber_get_user_data(c).is_null());
        assert_eq!(otc_subscriber_get_rtc_stats_report(c), MEDIA);
        assert_eq!(otc_subscriber_set_rtc_stats_report_cb(s, zeroed()), MEDIA);
        assert_eq!((w, h, vol, fps), (11, 12, 0.5, 7.5), "outputs untouched");
    }
    assert!(garbage.iter().chain(&stream_garbage).all(|b| *b == 0x3c));
    assert_logged_once(&[
        "otc_subscriber_new",
        "otc_subscriber_delete",
        "otc_subscriber_get_stream",
        "otc_subscriber_set_subscribe_to_video",
        "otc_subscriber_set_subscribe_to_audio",
        "otc_subscriber_set_subscribe_to_captions",
        "otc_subscriber_get_subscribe_to_video",
        "otc_subscriber_get_subscribe_to_audio",
        "otc_subscriber_get_subscribe_to_captions",
        "otc_subscriber_get_session",
        "otc_subscriber_set_preferred_resolution",
        "otc_subscriber_get_preferred_resolution",
        "otc_subscriber_set_audio_volume",
        "otc_subscriber_get_audio_volume",
        "otc_subscriber_set_preferred_framerate",
        "otc_subscriber_get_preferred_framerate",
        "otc_subscriber_get_subscriber_id",
        "otc_subscriber_get_user_data",
        "otc_subscriber_get_rtc_stats_report",
        "otc_subscriber_set_rtc_stats_report_cb",
    ]);
}

// ---- devices, capturers, codecs, transformers ---------------------------------------------

#[test]
fn devices_capturers_codecs_and_transformers_fail() {
    logging();
    let mut garbage = [0x77u8; 64];
    let mut samples = [0x1234i16; 16];
    let device: otc_audio_device_callbacks = zeroed();
    assert_eq!(otc_set_audio_device(&device), MEDIA);
    assert_eq!(otc_set_audio_device(std::ptr::null()), MEDIA);
    assert_eq!(
        otc_audio_device_read_render_data(samples.as_mut_ptr(), samples.len()),
        0
    );
    assert_eq!(
        otc_audio_device_read_render_data(std::ptr::null_mut(), usize::MAX),
        0
    );
    assert_eq!(
        otc_audio_device_write_capture_data(samples.as_ptr(), samples.len()),
        MEDIA
    );
    assert_eq!(
        otc_audio_device_write_capture_data(std::ptr::null(), usize::MAX),
        MEDIA
    );
    assert!(samples.iter().all(|s| *s == 0x1234), "no samples written");

    let dev = cs("default");
    assert!(otc_audio_module_input_device_enumerator_new().is_null());
    assert!(otc_audio_module_output_device_enumerator_new().is_null());
    assert_eq!(otc_audio_module_input_device_select(dev.as_ptr()), MEDIA);
    assert_eq!(
        otc_audio_module_input_device_select(std::ptr::null()),
        MEDIA
    );
    assert_eq!(otc_audio_module_output_device_select(dev.as_ptr()), MEDIA);
    for e in bad_pointers::<otc_audio_module_input_device_enumerator>(&mut garbage) {
        assert_eq!(otc_audio_module_input_device_enumerator_size(e), 0);
        for i in [0, -1, i32::MAX] {
            assert!(otc_audio_module_input_device_enumerator_get_device_id(e, i).is_null());
            assert!(otc_audio_module_input_device_enumerator_get_device_name(e, i).is_null());
        }
        assert_eq!(otc_audio_module_input_device_enumerator_delete(e), MEDIA);
    }
    for e in bad_pointers::<otc_audio_module_output_device_enumerator>(&mut garbage) {
        assert_eq!(otc_audio_module_output_device_enumerator_size(e), 0);
        for i in [0, -1, i32::MIN] {
            assert!(otc_audio_module_output_device_enumerator_get_device_id(e, i).is_null());
            assert!(otc_audio_module_output_device_enumerator_get_device_name(e, i).is_null());
        }
        assert_eq!(otc_audio_module_output_device_enumerator_delete(e), MEDIA);
    }

    for c in bad_pointers::<otc_video_capturer>(&mut garbage) {
        let c = c as *const otc_video_capturer;
        assert_eq!(
            otc_video_capturer_provide_frame(c, 90, std::ptr::null()),
            MEDIA
        );
        assert_eq!(
            otc_video_capturer_provide_frame(c, -1, 0x10 as *const _),
            MEDIA
        );
        for hint in [0, 3, 4, -1] {
            assert_eq!(otc_video_capturer_set_content_hint(c, hint), MEDIA);
        }
        assert_eq!(
            otc_video_capturer_get_content_hint(c),
            otc_video_capturer_content_hint_type::OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE
        );
    }

    let mut codecs: *mut otc_media_utils_codecs = 0x18 as *mut _;
    assert_eq!(otc_media_utils_get_supported_codecs(&mut codecs), MEDIA);
    assert_eq!(codecs, 0x18 as *mut _, "nothing written");
    assert_eq!(
        otc_media_utils_get_supported_codecs(std::ptr::null_mut()),
        MEDIA
    );
    for c in bad_pointers::<otc_media_utils_codecs>(&mut garbage) {
        assert_eq!(otc_media_utils_codecs_delete(c), MEDIA);
    }

    let (name, props) = (cs("BackgroundBlur"), cs("{\"radius\":\"High\"}"));
    extern "C" fn on_video(_: *mut c_void, _: *mut otc_video_frame) {
        panic!("a video transform callback was called");
    }
    extern "C" fn on_audio(_: *mut c_void, _: *mut otc_audio_data) {
        panic!("an audio transform callback was called");
    }
    for t in [0, 1, 2, -1, i32::MAX] {
        assert!(otc_video_transformer_create(
            t,
            name.as_ptr(),
            props.as_ptr(),
            Some(on_video),
            std::ptr::null_mut()
        )
        .is_null());
        assert!(otc_audio_transformer_create(
            t,
            std::ptr::null(),
            std::ptr::null(),
            Some(on_audio),
            std::ptr::null_mut()
        )
        .is_null());
        assert!(otc_video_transformer_create(
            t,
            std::ptr::null(),
            std::ptr::null(),
            None,
            std::ptr::null_mut()
        )
        .is_null());
    }
    for t in bad_pointers::<otc_video_transformer>(&mut garbage) {
        assert_eq!(otc_video_transformer_delete(t), MEDIA);
    }
    for t in bad_pointers::<otc_audio_transformer>(&mut garbage) {
        assert_eq!(otc_audio_transformer_delete(t), MEDIA);
    }
    assert!(garbage.iter().all(|b| *b == 0x77), "nothing was written");
    assert_logged_once(&[
        "otc_set_audio_device",
        "otc_audio_device_read_render_data",
        "otc_audio_device_write_capture_data",
        "otc_audio_module_input_device_enumerator_new",
        "otc_audio_module_input_device_enumerator_size",
        "otc_audio_module_input_device_enumerator_get_device_id",
        "otc_audio_module_input_device_enumerator_get_device_name",
        "otc_audio_module_input_device_enumerator_delete",
        "otc_audio_module_input_device_select",
        "otc_audio_module_output_device_enumerator_new",
        "otc_audio_module_output_device_enumerator_size",
        "otc_audio_module_output_device_enumerator_get_device_id",
        "otc_audio_module_output_device_enumerator_get_device_name",
        "otc_audio_module_output_device_enumerator_delete",
        "otc_audio_module_output_device_select",
        "otc_video_capturer_provide_frame",
        "otc_video_capturer_set_content_hint",
        "otc_video_capturer_get_content_hint",
        "otc_media_utils_get_supported_codecs",
        "otc_media_utils_codecs_delete",
        "otc_video_transformer_create",
        "otc_audio_transformer_create",
        "otc_video_transformer_delete",
        "otc_audio_transformer_delete",
    ]);
    // The line says why.
    let logs = LOGS.lock().unwrap();
    let line = logs
        .iter()
        .find(|m| m.contains(" otc_set_audio_device: "))
        .unwrap();
    assert!(line.contains("media") && line.contains("5000"), "{line}");
}

// ---- layout ------------------------------------------------------------------------

#[test]
fn media_structs_have_the_sdk_layout() {
    // x86_64 / aarch64 Linux (LP64), as the SDK's headers lay them out.
    let p = size_of::<*const ()>();
    assert_eq!(size_of::<otc_publisher_callbacks>(), 14 * p);
    assert_eq!(
        offset_of!(otc_publisher_callbacks, on_publisher_mute_forced),
        4 * p
    );
    assert_eq!(offset_of!(otc_publisher_callbacks, on_error), 7 * p);
    assert_eq!(
        offset_of!(otc_publisher_callbacks, on_video_disable_warning_lifted),
        11 * p
    );
    assert_eq!(offset_of!(otc_publisher_callbacks, user_data), 12 * p);
    assert_eq!(size_of::<otc_subscriber_callbacks>(), 19 * p);
    assert_eq!(
        offset_of!(otc_subscriber_callbacks, on_caption_text),
        10 * p
    );
    assert_eq!(offset_of!(otc_subscriber_callbacks, on_error), 15 * p);
    assert_eq!(offset_of!(otc_subscriber_callbacks, on_audio_data), 16 * p);
    assert_eq!(offset_of!(otc_subscriber_callbacks, reserved), 18 * p);
    assert_eq!(size_of::<otc_audio_device_callbacks>(), 20 * p);
    assert_eq!(
        offset_of!(otc_audio_device_callbacks, get_capture_settings),
        9 * p
    );
    assert_eq!(
        offset_of!(otc_audio_device_callbacks, get_render_settings),
        17 * p
    );
    assert_eq!(size_of::<otc_video_capturer_callbacks>(), 7 * p);
    assert_eq!(offset_of!(otc_video_capturer_callbacks, user_data), 5 * p);
    assert_eq!(size_of::<otc_publisher_rtc_stats_report_cb>(), 3 * p);
    assert_eq!(
        offset_of!(otc_publisher_rtc_stats_report_cb, on_rtc_stats_report),
        p
    );
    assert_eq!(size_of::<otc_subscriber_rtc_stats_report_cb>(), 3 * p);
    assert_eq!(size_of::<otc_publisher_rtc_stats>(), 2 * p);

    assert_eq!(size_of::<otc_publisher_audio_stats>(), 64);
    assert_eq!(offset_of!(otc_publisher_audio_stats, audio_level), 40);
    assert_eq!(offset_of!(otc_publisher_audio_stats, timestamp), 48);
    assert_eq!(size_of::<otc_publisher_video_stats>(), 56);
    assert_eq!(offset_of!(otc_publisher_video_stats, timestamp), 40);
    assert_eq!(size_of::<otc_subscriber_audio_stats>(), 40);
    assert_eq!(offset_of!(otc_subscriber_audio_stats, timestamp), 32);
    assert_eq!(size_of::<otc_subscriber_video_stats>(), 32);
    assert_eq!(size_of::<otc_audio_data>(), 32);
    assert_eq!(offset_of!(otc_audio_data, number_of_channels), 16);
    assert_eq!(size_of::<otc_audio_device_settings>(), 8);
    assert_eq!(size_of::<otc_video_capturer_settings>(), 24);
    assert_eq!(
        offset_of!(otc_video_capturer_settings, mirror_on_local_render),
        20
    );
    assert_eq!(size_of::<otc_media_utils_codecs>(), 32);
    assert_eq!(offset_of!(otc_media_utils_codecs, decoder_video_codecs), 24);

    // Enum values.
    use otc_media_transformer_error_code::*;
    assert_eq!(
        OTC_MEDIA_TRANSFORMER_INTERNAL_ERROR as i32,
        OTC_MEDIA_TRANSFORMER_ERROR_SPACE
    );
    assert_eq!(
        OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_SYMBOL_NOT_FOUND as i32,
        OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 7
    );
    assert_eq!(
        otc_publisher_error_code::OTC_PUBLISHER_UNABLE_TO_PUBLISH as i32,
        1500
    );
    assert_eq!(
        otc_subscriber_error_code::OTC_SUBSCRIBER_TIMED_OUT as i32,
        1542
    );
    assert_eq!(
        otc_camera_capture_resolution::OTC_CAMERA_CAPTURE_RESOLUTION_1080P as i32,
        3
    );
    assert_eq!(otc_media_type::OTC_MEDIA_TYPE_AUDIO as i32, 1);
    assert_eq!(otc_video_codec_type::OTC_VIDEO_CODEC_H264 as i32, 2);
    assert_eq!(
        otc_video_reason::OTC_VIDEO_REASON_CODEC_NOT_SUPPORTED as i32,
        4
    );
}
