/*
 * Group session.h of tests/sdk/layout_check.c: what the Vonage Video Linux SDK
 * 2.32 declares in <opentok/session.h>, with its x86_64 (LP64) figures, which
 * our <opentok.h> must match (the macros are described in layout_check.h).
 * A name our header lacks fails the build of this group, and the compiler
 * names it; scripts/sdk-style-tests.sh builds each group alone too
 * (tests/sdk/layout_one.c), so the groups that do build still run.
 */
static void lc_check_session(void) {
    lc_group("session.h");
    LC_STRUCT(otc_session_capabilities, 8, 4);
    LC_FIELD(otc_session_capabilities, publish, 0, 4);
    LC_FIELD(otc_session_capabilities, force_mute, 4, 4);
    LC_STRUCT(otc_custom_ice_config, 40, 8);
    LC_FIELD(otc_custom_ice_config, num_ice_servers, 0, 4);
    LC_FIELD(otc_custom_ice_config, ice_url, 8, 8);
    LC_FIELD(otc_custom_ice_config, ice_user, 16, 8);
    LC_FIELD(otc_custom_ice_config, ice_credential, 24, 8);
    LC_FIELD(otc_custom_ice_config, force_turn, 32, 4);
    LC_FIELD(otc_custom_ice_config, use_custom_turn_only, 36, 4);
    LC_STRUCT(otc_signal_options, 4, 4);
    LC_FIELD(otc_signal_options, retry_after_reconnect, 0, 4);
    LC_STRUCT(otc_session_callbacks, 160, 8);
    LC_FIELD(otc_session_callbacks, on_connected, 0, 8);
    LC_FIELD(otc_session_callbacks, on_disconnected, 8, 8);
    LC_FIELD(otc_session_callbacks, on_connection_created, 16, 8);
    LC_FIELD(otc_session_callbacks, on_connection_dropped, 24, 8);
    LC_FIELD(otc_session_callbacks, on_stream_received, 32, 8);
    LC_FIELD(otc_session_callbacks, on_stream_dropped, 40, 8);
    LC_FIELD(otc_session_callbacks, on_stream_has_audio_changed, 48, 8);
    LC_FIELD(otc_session_callbacks, on_stream_has_video_changed, 56, 8);
    LC_FIELD(otc_session_callbacks, on_stream_has_captions_changed, 64, 8);
    LC_FIELD(otc_session_callbacks, on_stream_video_dimensions_changed, 72, 8);
    LC_FIELD(otc_session_callbacks, on_stream_video_type_changed, 80, 8);
    LC_FIELD(otc_session_callbacks, on_signal_received, 88, 8);
    LC_FIELD(otc_session_callbacks, on_reconnection_started, 96, 8);
    LC_FIELD(otc_session_callbacks, on_reconnected, 104, 8);
    LC_FIELD(otc_session_callbacks, on_archive_started, 112, 8);
    LC_FIELD(otc_session_callbacks, on_archive_stopped, 120, 8);
    LC_FIELD(otc_session_callbacks, on_error, 128, 8);
    LC_FIELD(otc_session_callbacks, on_mute_forced, 136, 8);
    LC_FIELD(otc_session_callbacks, user_data, 144, 8);
    LC_FIELD(otc_session_callbacks, reserved, 152, 8);
    LC_ENUM_TYPE(otc_session_error_code);
    LC_ENUM(otc_session_error_code, OTC_SESSION_AUTHORIZATION_FAILURE, 1004);
    LC_ENUM(otc_session_error_code, OTC_SESSION_BLOCKED_COUNTRY, 1026);
    LC_ENUM(otc_session_error_code, OTC_SESSION_CONNECTION_DROPPED, 1022);
    LC_ENUM(otc_session_error_code, OTC_SESSION_CONNECTION_FAILED, 1006);
    LC_ENUM(otc_session_error_code, OTC_SESSION_CONNECTION_LIMIT_EXCEEDED, 1027);
    LC_ENUM(otc_session_error_code, OTC_SESSION_CONNECTION_REFUSED, 1023);
    LC_ENUM(otc_session_error_code, OTC_SESSION_CONNECTION_TIMED_OUT, 1021);
    LC_ENUM(otc_session_error_code, OTC_SESSION_FORCE_UNPUBLISH_OR_INVALID_STREAM, 1535);
    LC_ENUM(otc_session_error_code, OTC_SESSION_ILLEGAL_STATE, 1015);
    LC_ENUM(otc_session_error_code, OTC_SESSION_INTERNAL_ERROR, 2000);
    LC_ENUM(otc_session_error_code, OTC_SESSION_INVALID_SESSION, 1005);
    LC_ENUM(otc_session_error_code, OTC_SESSION_INVALID_SIGNAL_TYPE, 1461);
    LC_ENUM(otc_session_error_code, OTC_SESSION_NOT_CONNECTED, 1010);
    LC_ENUM(otc_session_error_code, OTC_SESSION_NO_MESSAGING_SERVER, 1503);
    LC_ENUM(otc_session_error_code, OTC_SESSION_NULL_OR_INVALID_PARAMETER, 1011);
    LC_ENUM(otc_session_error_code, OTC_SESSION_PUBLISHER_NOT_FOUND, 1113);
    LC_ENUM(otc_session_error_code, OTC_SESSION_SIGNAL_DATA_TOO_LONG, 1413);
    LC_ENUM(otc_session_error_code, OTC_SESSION_SIGNAL_TYPE_TOO_LONG, 1414);
    LC_ENUM(otc_session_error_code, OTC_SESSION_UNABLE_TO_SEND_SIGNAL, 1550);
    LC_ENUM(otc_session_error_code, OTC_SESSION_STATE_FAILED, 1020);
    LC_ENUM(otc_session_error_code, OTC_SESSION_SUBSCRIBER_NOT_FOUND, 1112);
    LC_ENUM(otc_session_error_code, OTC_SESSION_UNEXPECTED_GET_SESSION_INFO_REPONSE, 2001);
    LC_ENUM(otc_session_error_code, OTC_SESSION_ENCRYPTION_SECRET_MISSING, 6000);
    LC_ENUM(otc_session_error_code, OTC_SESSION_INVALID_ENCRYPTION_SECRET, 6004);
    LC_MACRO(ENCRYPTION_SECRET_MINIMUM_LENGTH, 8);
    LC_MACRO(ENCRYPTION_SECRET_MAXIMUM_LENGTH, 256);
    LC_TYPEDEF(otc_session);
    LC_TYPEDEF(otc_session_settings);
}
