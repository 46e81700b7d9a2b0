/*
 * Group stream.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/stream.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_stream(void) {
    lc_group("stream.h");
    LC_ENUM_TYPE(otc_stream_video_type);
    LC_ENUM(otc_stream_video_type, OTC_STREAM_VIDEO_TYPE_CAMERA, 1);
    LC_ENUM(otc_stream_video_type, OTC_STREAM_VIDEO_TYPE_SCREEN, 2);
    LC_ENUM(otc_stream_video_type, OTC_STREAM_VIDEO_TYPE_CUSTOM, 3);
    LC_TYPEDEF(otc_stream);
}
