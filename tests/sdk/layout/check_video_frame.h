/*
 * Group video_frame.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/video_frame.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_video_frame(void) {
    lc_group("video_frame.h");
    LC_STRUCT(otc_video_frame_planar_memory_callbacks, 40, 8);
    LC_FIELD(otc_video_frame_planar_memory_callbacks, get_plane, 0, 8);
    LC_FIELD(otc_video_frame_planar_memory_callbacks, get_plane_stride, 8, 8);
    LC_FIELD(otc_video_frame_planar_memory_callbacks, release, 16, 8);
    LC_FIELD(otc_video_frame_planar_memory_callbacks, user_data, 24, 8);
    LC_FIELD(otc_video_frame_planar_memory_callbacks, reserved, 32, 8);
    LC_ENUM_TYPE(otc_video_frame_format);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_UNKNOWN, 0);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_YUV420P, 1);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_NV12, 2);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_NV21, 3);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_YUY2, 4);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_UYVY, 5);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_ARGB32, 6);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_BGRA32, 7);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_RGB24, 8);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_ABGR32, 9);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_MJPEG, 10);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_RGBA32, 11);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_MAX, 12);
    LC_ENUM(otc_video_frame_format, OTC_VIDEO_FRAME_FORMAT_COMPRESSED, 255);
    LC_ENUM_TYPE(otc_video_frame_plane);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_Y, 0);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_U, 1);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_V, 2);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_PACKED, 0);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_UV_INTERLEAVED, 1);
    LC_ENUM(otc_video_frame_plane, OTC_VIDEO_FRAME_PLANE_VU_INTERLEAVED, 1);
    LC_MACRO(OTC_VIDEO_FRAME_METADATA_MAX_SIZE, 32);
    LC_TYPEDEF(otc_video_frame);
    LC_TYPEDEF(otc_video_frame_memory_release_callback);
}
