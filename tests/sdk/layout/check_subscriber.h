/*
 * Group subscriber.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/subscriber.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_subscriber(void) {
    lc_group("subscriber.h");
    LC_STRUCT(otc_subscriber_audio_stats, 40, 8);
    LC_FIELD(otc_subscriber_audio_stats, packets_lost, 0, 8);
    LC_FIELD(otc_subscriber_audio_stats, packets_received, 8, 8);
    LC_FIELD(otc_subscriber_audio_stats, bytes_received, 16, 8);
    LC_FIELD(otc_subscriber_audio_stats, audio_level, 24, 4);
    LC_FIELD(otc_subscriber_audio_stats, timestamp, 32, 8);
    LC_STRUCT(otc_subscriber_video_stats, 32, 8);
    LC_FIELD(otc_subscriber_video_stats, packets_lost, 0, 8);
    LC_FIELD(otc_subscriber_video_stats, packets_received, 8, 8);
    LC_FIELD(otc_subscriber_video_stats, bytes_received, 16, 8);
    LC_FIELD(otc_subscriber_video_stats, timestamp, 24, 8);
    LC_STRUCT(otc_subscriber_rtc_stats_report_cb, 24, 8);
    LC_FIELD(otc_subscriber_rtc_stats_report_cb, user_data, 0, 8);
    LC_FIELD(otc_subscriber_rtc_stats_report_cb, on_rtc_stats_report, 8, 8);
    LC_FIELD(otc_subscriber_rtc_stats_report_cb, reserved, 16, 8);
    LC_STRUCT(otc_subscriber_callbacks, 152, 8);
    LC_FIELD(otc_subscriber_callbacks, on_connected, 0, 8);
    LC_FIELD(otc_subscriber_callbacks, on_disconnected, 8, 8);
    LC_FIELD(otc_subscriber_callbacks, on_reconnected, 16, 8);
    LC_FIELD(otc_subscriber_callbacks, on_render_frame, 24, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_disabled, 32, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_enabled, 40, 8);
    LC_FIELD(otc_subscriber_callbacks, on_audio_disabled, 48, 8);
    LC_FIELD(otc_subscriber_callbacks, on_audio_enabled, 56, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_data_received, 64, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_disable_warning, 72, 8);
    LC_FIELD(otc_subscriber_callbacks, on_caption_text, 80, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_disable_warning_lifted, 88, 8);
    LC_FIELD(otc_subscriber_callbacks, on_audio_stats, 96, 8);
    LC_FIELD(otc_subscriber_callbacks, on_video_stats, 104, 8);
    LC_FIELD(otc_subscriber_callbacks, on_audio_level_updated, 112, 8);
    LC_FIELD(otc_subscriber_callbacks, on_error, 120, 8);
    LC_FIELD(otc_subscriber_callbacks, on_audio_data, 128, 8);
    LC_FIELD(otc_subscriber_callbacks, user_data, 136, 8);
    LC_FIELD(otc_subscriber_callbacks, reserved, 144, 8);
    LC_ENUM_TYPE(otc_subscriber_error_code);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_INTERNAL_ERROR, 2000);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_SESSION_DISCONNECTED, 1010);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_SERVER_CANNOT_FIND_STREAM, 1604);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_STREAM_LIMIT_EXCEEDED, 1605);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_TIMED_OUT, 1542);
    LC_ENUM(otc_subscriber_error_code, OTC_SUBSCRIBER_WEBRTC_ERROR, 1600);
    LC_TYPEDEF(otc_session);
    LC_TYPEDEF(otc_subscriber);
}
