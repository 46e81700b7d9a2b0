/*
 * Group video_capturer.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/video_capturer.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_video_capturer(void) {
    lc_group("video_capturer.h");
    LC_STRUCT(otc_video_capturer_settings, 24, 4);
    LC_FIELD(otc_video_capturer_settings, format, 0, 4);
    LC_FIELD(otc_video_capturer_settings, width, 4, 4);
    LC_FIELD(otc_video_capturer_settings, height, 8, 4);
    LC_FIELD(otc_video_capturer_settings, fps, 12, 4);
    LC_FIELD(otc_video_capturer_settings, expected_delay, 16, 4);
    LC_FIELD(otc_video_capturer_settings, mirror_on_local_render, 20, 4);
    LC_STRUCT(otc_video_capturer_callbacks, 56, 8);
    LC_FIELD(otc_video_capturer_callbacks, init, 0, 8);
    LC_FIELD(otc_video_capturer_callbacks, destroy, 8, 8);
    LC_FIELD(otc_video_capturer_callbacks, start, 16, 8);
    LC_FIELD(otc_video_capturer_callbacks, stop, 24, 8);
    LC_FIELD(otc_video_capturer_callbacks, get_capture_settings, 32, 8);
    LC_FIELD(otc_video_capturer_callbacks, user_data, 40, 8);
    LC_FIELD(otc_video_capturer_callbacks, reserved, 48, 8);
    LC_ENUM_TYPE(otc_video_capturer_content_hint_type);
    LC_ENUM(otc_video_capturer_content_hint_type, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE, 0);
    LC_ENUM(otc_video_capturer_content_hint_type, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_MOTION, 1);
    LC_ENUM(otc_video_capturer_content_hint_type, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_DETAIL, 2);
    LC_ENUM(otc_video_capturer_content_hint_type, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_TEXT, 3);
    LC_TYPEDEF(otc_video_capturer);
}
