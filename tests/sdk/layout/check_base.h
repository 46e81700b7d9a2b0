/*
 * Group base.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/base.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_base(void) {
    lc_group("base.h");
    LC_STRUCT(otc_on_mute_forced_info, 4, 4);
    LC_FIELD(otc_on_mute_forced_info, active, 0, 4);
    LC_ENUM_TYPE(otc_video_reason);
    LC_ENUM(otc_video_reason, OTC_VIDEO_REASON_PUBLISH_VIDEO, 1);
    LC_ENUM(otc_video_reason, OTC_VIDEO_REASON_SUBSCRIBE_TO_VIDEO, 2);
    LC_ENUM(otc_video_reason, OTC_VIDEO_REASON_QUALITY, 3);
    LC_ENUM(otc_video_reason, OTC_VIDEO_REASON_CODEC_NOT_SUPPORTED, 4);
    LC_ENUM_TYPE(otc_constant);
    LC_ENUM(otc_constant, OTC_SUCCESS, 0);
    LC_ENUM(otc_constant, OTC_FALSE, 0);
    LC_ENUM(otc_constant, OTC_TRUE, 1);
    LC_ENUM_TYPE(otc_error_code);
    LC_ENUM(otc_error_code, OTC_INVALID_PARAM, 1);
    LC_ENUM(otc_error_code, OTC_FATAL, 2);
    LC_ENUM(otc_error_code, OTC_INVALID_VIDEO_FORMAT, 3);
    LC_ENUM(otc_error_code, OTC_CONNECTION_DROPPED, 1022);
    LC_ENUM(otc_error_code, OTC_UNABLE_TO_FORCE_DISCONNECT, 1520);
    LC_ENUM(otc_error_code, OTC_UNABLE_TO_FORCE_MUTE, 1540);
    LC_ENUM(otc_error_code, OTC_CONNECTION_TIMED_OUT, 1542);
    LC_ENUM(otc_error_code, OTC_UNKNOWN_PUBLISHER_INSTANCE, 2003);
    LC_ENUM(otc_error_code, OTC_UNKNOWN_SUBSCRIBER_INSTANCE, 2004);
    LC_ENUM(otc_error_code, OTC_VIDEO_CAPTURE_FAILED, 3000);
    LC_ENUM(otc_error_code, OTC_CAMERA_FAILED, 3010);
    LC_ENUM(otc_error_code, OTC_VIDEO_RENDER_FAILED, 4000);
    LC_ENUM(otc_error_code, OT_UNABLE_TO_ACCESS_MEDIA_ENGINE, 5000);
    LC_ENUM_TYPE(otc_log_level);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_DISABLED, 0);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_ERROR, 1);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_WARN, 2);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_INFO, 3);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_DEBUG, 4);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_FATAL, 1);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_MSG, 4);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_TRACE, 4);
    LC_ENUM(otc_log_level, OTC_LOG_LEVEL_ALL, 4);
    LC_TYPEDEF_SIZE(otc_bool, 4);
    LC_TYPEDEF_SIZE(otc_status, 4);
    LC_TYPEDEF(otc_logger_callback);
}
