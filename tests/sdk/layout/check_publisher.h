/*
 * Group publisher.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/publisher.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_publisher(void) {
    lc_group("publisher.h");
    LC_STRUCT(otc_publisher_audio_stats, 64, 8);
    LC_FIELD(otc_publisher_audio_stats, connection_id, 0, 8);
    LC_FIELD(otc_publisher_audio_stats, subscriber_id, 8, 8);
    LC_FIELD(otc_publisher_audio_stats, packets_lost, 16, 8);
    LC_FIELD(otc_publisher_audio_stats, packets_sent, 24, 8);
    LC_FIELD(otc_publisher_audio_stats, bytes_sent, 32, 8);
    LC_FIELD(otc_publisher_audio_stats, audio_level, 40, 4);
    LC_FIELD(otc_publisher_audio_stats, timestamp, 48, 8);
    LC_FIELD(otc_publisher_audio_stats, start_time, 56, 8);
    LC_STRUCT(otc_publisher_video_stats, 56, 8);
    LC_FIELD(otc_publisher_video_stats, connection_id, 0, 8);
    LC_FIELD(otc_publisher_video_stats, subscriber_id, 8, 8);
    LC_FIELD(otc_publisher_video_stats, packets_lost, 16, 8);
    LC_FIELD(otc_publisher_video_stats, packets_sent, 24, 8);
    LC_FIELD(otc_publisher_video_stats, bytes_sent, 32, 8);
    LC_FIELD(otc_publisher_video_stats, timestamp, 40, 8);
    LC_FIELD(otc_publisher_video_stats, start_time, 48, 8);
    LC_STRUCT(otc_publisher_callbacks, 112, 8);
    LC_FIELD(otc_publisher_callbacks, on_stream_created, 0, 8);
    LC_FIELD(otc_publisher_callbacks, on_stream_destroyed, 8, 8);
    LC_FIELD(otc_publisher_callbacks, on_render_frame, 16, 8);
    LC_FIELD(otc_publisher_callbacks, on_audio_level_updated, 24, 8);
    LC_FIELD(otc_publisher_callbacks, on_publisher_mute_forced, 32, 8);
    LC_FIELD(otc_publisher_callbacks, on_audio_stats, 40, 8);
    LC_FIELD(otc_publisher_callbacks, on_video_stats, 48, 8);
    LC_FIELD(otc_publisher_callbacks, on_error, 56, 8);
    LC_FIELD(otc_publisher_callbacks, on_video_disabled, 64, 8);
    LC_FIELD(otc_publisher_callbacks, on_video_enabled, 72, 8);
    LC_FIELD(otc_publisher_callbacks, on_video_disable_warning, 80, 8);
    LC_FIELD(otc_publisher_callbacks, on_video_disable_warning_lifted, 88, 8);
    LC_FIELD(otc_publisher_callbacks, user_data, 96, 8);
    LC_FIELD(otc_publisher_callbacks, reserved, 104, 8);
    LC_STRUCT(otc_publisher_rtc_stats, 16, 8);
    LC_FIELD(otc_publisher_rtc_stats, connection_id, 0, 8);
    LC_FIELD(otc_publisher_rtc_stats, json_array_of_reports, 8, 8);
    LC_STRUCT(otc_publisher_rtc_stats_report_cb, 24, 8);
    LC_FIELD(otc_publisher_rtc_stats_report_cb, user_data, 0, 8);
    LC_FIELD(otc_publisher_rtc_stats_report_cb, on_rtc_stats_report, 8, 8);
    LC_FIELD(otc_publisher_rtc_stats_report_cb, reserved, 16, 8);
    LC_ENUM_TYPE(otc_publisher_error_code);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_INTERNAL_ERROR, 2000);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_SESSION_DISCONNECTED, 1010);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_TIMED_OUT, 1541);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_UNABLE_TO_PUBLISH, 1500);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_WEBRTC_ERROR, 1610);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_ENCRYPTION_INTERNAL_ERROR, 6001);
    LC_ENUM(otc_publisher_error_code, OTC_PUBLISHER_ENCRYPTION_UNSUPPORTED_CODEC, 6005);
    LC_ENUM_TYPE(otc_publisher_video_type);
    LC_ENUM(otc_publisher_video_type, OTC_PUBLISHER_VIDEO_TYPE_CAMERA, 1);
    LC_ENUM(otc_publisher_video_type, OTC_PUBLISHER_VIDEO_TYPE_SCREEN, 2);
    LC_ENUM_TYPE(otc_media_type);
    LC_ENUM(otc_media_type, OTC_MEDIA_TYPE_VIDEO, 0);
    LC_ENUM(otc_media_type, OTC_MEDIA_TYPE_AUDIO, 1);
    LC_ENUM_TYPE(otc_video_bitrate_preset);
    LC_ENUM(otc_video_bitrate_preset, OTC_VIDEO_BITRATE_PRESET_DEFAULT, 0);
    LC_ENUM(otc_video_bitrate_preset, OTC_VIDEO_BITRATE_PRESET_BW_SAVER, 1);
    LC_ENUM(otc_video_bitrate_preset, OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER, 2);
    LC_ENUM(otc_video_bitrate_preset, OTC_VIDEO_BITRATE_PRESET_CUSTOM, 3);
    LC_TYPEDEF(otc_session);
    LC_TYPEDEF(otc_publisher);
    LC_TYPEDEF(otc_publisher_settings);
}
