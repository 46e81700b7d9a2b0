/*
 * Compile-time checks of <opentok.h> against the Vonage Linux SDK's API,
 * shared by header_c99.c and header_cxx14.cpp.
 *
 * - every constant and enum member has the SDK's value;
 * - the structs have the SDK's layout (callback fields in the SDK's order);
 * - every function has the SDK's exact type: its address is stored in a
 *   pointer whose type is spelled out from the SDK's declaration, which is
 *   a compile error (C++) or an -Werror'd warning (C) on any difference of
 *   argument, return type or const-ness.
 */
#ifndef OTC_HEADER_CHECKS_H
#define OTC_HEADER_CHECKS_H

#include <opentok.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
#define HC_ASSERT(cond, name) static_assert(cond, #name)
#else
#define HC_ASSERT(cond, name) typedef char hc_assert_##name[(cond) ? 1 : -1]
#endif

HC_ASSERT(OTC_SUCCESS == 0, success);
HC_ASSERT(OTC_TRUE == 1, true_is_1);
HC_ASSERT(OTC_FALSE == 0, false_is_0);
HC_ASSERT(sizeof(otc_bool) == sizeof(int), bool_is_int);
HC_ASSERT(sizeof(otc_status) == sizeof(int), status_is_int);

/* SDK 2.32: five levels, and FATAL/MSG/TRACE/ALL as aliases. */
HC_ASSERT(OTC_LOG_LEVEL_DISABLED == 0, ll0);
HC_ASSERT(OTC_LOG_LEVEL_ERROR == 1, ll1);
HC_ASSERT(OTC_LOG_LEVEL_WARN == 2, ll2);
HC_ASSERT(OTC_LOG_LEVEL_INFO == 3, ll3);
HC_ASSERT(OTC_LOG_LEVEL_DEBUG == 4, ll4);
HC_ASSERT(OTC_LOG_LEVEL_FATAL == OTC_LOG_LEVEL_ERROR, ll_fatal);
HC_ASSERT(OTC_LOG_LEVEL_MSG == OTC_LOG_LEVEL_DEBUG, ll_msg);
HC_ASSERT(OTC_LOG_LEVEL_TRACE == OTC_LOG_LEVEL_DEBUG, ll_trace);
HC_ASSERT(OTC_LOG_LEVEL_ALL == OTC_LOG_LEVEL_DEBUG, ll_all);

HC_ASSERT(OTC_INVALID_PARAM == 1, e1);
HC_ASSERT(OTC_FATAL == 2, e2);
HC_ASSERT(OTC_INVALID_VIDEO_FORMAT == 3, e3);
HC_ASSERT(OTC_CONNECTION_DROPPED == 1022, e1022);
HC_ASSERT(OTC_UNABLE_TO_FORCE_DISCONNECT == 1520, e1520);
HC_ASSERT(OTC_UNABLE_TO_FORCE_MUTE == 1540, e1540);
HC_ASSERT(OTC_CONNECTION_TIMED_OUT == 1542, e1542);
HC_ASSERT(OTC_UNKNOWN_PUBLISHER_INSTANCE == 2003, e2003);
HC_ASSERT(OTC_UNKNOWN_SUBSCRIBER_INSTANCE == 2004, e2004);
HC_ASSERT(OTC_VIDEO_CAPTURE_FAILED == 3000, e3000);
HC_ASSERT(OTC_CAMERA_FAILED == 3010, e3010);
HC_ASSERT(OTC_VIDEO_RENDER_FAILED == 4000, e4000);
HC_ASSERT(OT_UNABLE_TO_ACCESS_MEDIA_ENGINE == 5000, e5000);

HC_ASSERT(OTC_SESSION_AUTHORIZATION_FAILURE == 1004, s1004);
HC_ASSERT(OTC_SESSION_BLOCKED_COUNTRY == 1026, s1026);
HC_ASSERT(OTC_SESSION_CONNECTION_DROPPED == 1022, s1022);
HC_ASSERT(OTC_SESSION_CONNECTION_FAILED == 1006, s1006);
HC_ASSERT(OTC_SESSION_CONNECTION_LIMIT_EXCEEDED == 1027, s1027);
HC_ASSERT(OTC_SESSION_CONNECTION_REFUSED == 1023, s1023);
HC_ASSERT(OTC_SESSION_CONNECTION_TIMED_OUT == 1021, s1021);
HC_ASSERT(OTC_SESSION_FORCE_UNPUBLISH_OR_INVALID_STREAM == 1535, s1535);
HC_ASSERT(OTC_SESSION_ILLEGAL_STATE == 1015, s1015);
HC_ASSERT(OTC_SESSION_INTERNAL_ERROR == 2000, s2000);
HC_ASSERT(OTC_SESSION_INVALID_SESSION == 1005, s1005);
HC_ASSERT(OTC_SESSION_INVALID_SIGNAL_TYPE == 1461, s1461);
HC_ASSERT(OTC_SESSION_NOT_CONNECTED == 1010, s1010);
HC_ASSERT(OTC_SESSION_NO_MESSAGING_SERVER == 1503, s1503);
HC_ASSERT(OTC_SESSION_NULL_OR_INVALID_PARAMETER == 1011, s1011);
HC_ASSERT(OTC_SESSION_PUBLISHER_NOT_FOUND == 1113, s1113);
HC_ASSERT(OTC_SESSION_SIGNAL_DATA_TOO_LONG == 1413, s1413);
HC_ASSERT(OTC_SESSION_SIGNAL_TYPE_TOO_LONG == 1414, s1414);
HC_ASSERT(OTC_SESSION_STATE_FAILED == 1020, s1020);
HC_ASSERT(OTC_SESSION_SUBSCRIBER_NOT_FOUND == 1112, s1112);
HC_ASSERT(OTC_SESSION_UNEXPECTED_GET_SESSION_INFO_REPONSE == 2001, s2001);

HC_ASSERT(OTC_STREAM_VIDEO_TYPE_CAMERA == 1, v1);
HC_ASSERT(OTC_STREAM_VIDEO_TYPE_SCREEN == 2, v2);
HC_ASSERT(OTC_STREAM_VIDEO_TYPE_CUSTOM == 3, v3);

/* Extension codes (ours), outside every SDK value. */
HC_ASSERT(OTC_SIGNAL_TARGET_NOT_CONNECTED == 1600, x1600);
HC_ASSERT(OTC_SIGNAL_PERMISSION_DENIED == 1601, x1601);
HC_ASSERT(OTC_SIGNAL_RATE_LIMITED == 1602, x1602);
HC_ASSERT(OTC_SIGNAL_BUFFER_FULL == 1603, x1603);
HC_ASSERT(OTC_SIGNAL_PROTOCOL_ERROR == 1604, x1604);

/* Layouts: 18 callbacks and two pointers, in the SDK 2.32 order. */
#define HC_SLOT(field, n) \
    HC_ASSERT(offsetof(struct otc_session_callbacks, field) == (n) * sizeof(void *), slot_##field)
HC_ASSERT(sizeof(struct otc_session_callbacks) == 20 * sizeof(void *), callbacks_size);
HC_SLOT(on_connected, 0);
HC_SLOT(on_disconnected, 1);
HC_SLOT(on_connection_created, 2);
HC_SLOT(on_connection_dropped, 3);
HC_SLOT(on_stream_received, 4);
HC_SLOT(on_stream_dropped, 5);
HC_SLOT(on_stream_has_audio_changed, 6);
HC_SLOT(on_stream_has_video_changed, 7);
HC_SLOT(on_stream_has_captions_changed, 8);
HC_SLOT(on_stream_video_dimensions_changed, 9);
HC_SLOT(on_stream_video_type_changed, 10);
HC_SLOT(on_signal_received, 11);
HC_SLOT(on_reconnection_started, 12);
HC_SLOT(on_reconnected, 13);
HC_SLOT(on_archive_started, 14);
HC_SLOT(on_archive_stopped, 15);
HC_SLOT(on_error, 16);
HC_SLOT(on_mute_forced, 17);
HC_SLOT(user_data, 18);
HC_SLOT(reserved, 19);
HC_ASSERT(sizeof(struct otc_signal_options) == sizeof(otc_bool), signal_options_size);
HC_ASSERT(sizeof(struct otc_session_capabilities) >= sizeof(otc_bool), capabilities_size);

/* Callback field types, spelled as the SDK declares them. */
static void hc_cb_session(otc_session *s, void *u) { (void)s; (void)u; }
static void hc_cb_connection(otc_session *s, void *u, const otc_connection *c) { (void)s; (void)u; (void)c; }
static void hc_cb_stream(otc_session *s, void *u, const otc_stream *st) { (void)s; (void)u; (void)st; }
static void hc_cb_stream_bool(otc_session *s, void *u, const otc_stream *st, otc_bool b) { (void)s; (void)u; (void)st; (void)b; }
static void hc_cb_dims(otc_session *s, void *u, const otc_stream *st, int w, int h) { (void)s; (void)u; (void)st; (void)w; (void)h; }
static void hc_cb_vtype(otc_session *s, void *u, const otc_stream *st, enum otc_stream_video_type t) { (void)s; (void)u; (void)st; (void)t; }
static void hc_cb_signal(otc_session *s, void *u, const char *t, const char *d, const otc_connection *c) { (void)s; (void)u; (void)t; (void)d; (void)c; }
static void hc_cb_archive_started(otc_session *s, void *u, const char *id, const char *n) { (void)s; (void)u; (void)id; (void)n; }
static void hc_cb_archive_stopped(otc_session *s, void *u, const char *id) { (void)s; (void)u; (void)id; }
static void hc_cb_error(otc_session *s, void *u, const char *m, enum otc_session_error_code e) { (void)s; (void)u; (void)m; (void)e; }
static void hc_logger(const char *message) { (void)message; }
static void hc_completion(otc_session *s, void *u, uint64_t id, otc_status r, void *d) { (void)s; (void)u; (void)id; (void)r; (void)d; }

static struct otc_session_callbacks hc_fill_callbacks(void) {
    struct otc_session_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.on_connected = hc_cb_session;
    cb.on_disconnected = hc_cb_session;
    cb.on_connection_created = hc_cb_connection;
    cb.on_connection_dropped = hc_cb_connection;
    cb.on_stream_received = hc_cb_stream;
    cb.on_stream_dropped = hc_cb_stream;
    cb.on_stream_has_audio_changed = hc_cb_stream_bool;
    cb.on_stream_has_video_changed = hc_cb_stream_bool;
    cb.on_stream_video_dimensions_changed = hc_cb_dims;
    cb.on_stream_video_type_changed = hc_cb_vtype;
    cb.on_signal_received = hc_cb_signal;
    cb.on_reconnection_started = hc_cb_session;
    cb.on_reconnected = hc_cb_session;
    cb.on_archive_started = hc_cb_archive_started;
    cb.on_archive_stopped = hc_cb_archive_stopped;
    cb.on_error = hc_cb_error;
    cb.user_data = NULL;
    cb.reserved = NULL;
    return cb;
}

/* Function types, spelled as the SDK declares them. Returns how many. */
static int hc_function_types(void) {
    otc_status (*f_init)(void *) = otc_init;
    otc_status (*f_destroy)(void) = otc_destroy;
    void (*f_set_logger)(otc_logger_callback) = otc_log_set_logger_callback;
    void (*f_log_enable)(enum otc_log_level) = otc_log_enable;
    enum otc_log_level (*f_get_level)(void) = otc_get_log_level;
    otc_session *(*f_new)(const char *, const char *, const struct otc_session_callbacks *) =
        otc_session_new;
    otc_session *(*f_new_ws)(const char *, const char *, const struct otc_session_callbacks *,
                             otc_session_settings *) = otc_session_new_with_settings;
    otc_session_settings *(*f_settings_new)(void) = otc_session_settings_new;
    otc_status (*f_suppress)(otc_session_settings *, otc_bool) =
        otc_session_settings_set_connection_events_suppressed;
    otc_status (*f_settings_delete)(otc_session_settings *) = otc_session_settings_delete;
    otc_status (*f_delete)(otc_session *) = otc_session_delete;
    otc_status (*f_connect)(otc_session *, const char *) = otc_session_connect;
    otc_status (*f_disconnect)(otc_session *) = otc_session_disconnect;
    otc_status (*f_send)(otc_session *, const char *, const char *) = otc_session_send_signal;
    otc_status (*f_send_to)(otc_session *, const char *, const char *, const otc_connection *) =
        otc_session_send_signal_to_connection;
    otc_status (*f_send_opts)(otc_session *, const char *, const char *, struct otc_signal_options) =
        otc_session_send_signal_with_options;
    otc_status (*f_send_to_opts)(otc_session *, const char *, const char *, const otc_connection *,
                                 struct otc_signal_options) =
        otc_session_send_signal_to_connection_with_options;
    char *(*f_get_id)(const otc_session *) = otc_session_get_id;
    otc_connection *(*f_get_conn)(const otc_session *) = otc_session_get_connection;
    struct otc_session_capabilities (*f_caps)(const otc_session *) = otc_session_get_capabilities;
    void *(*f_user_data)(const otc_session *) = otc_session_get_user_data;
    const char *(*f_c_id)(const otc_connection *) = otc_connection_get_id;
    int64_t (*f_c_time)(const otc_connection *) = otc_connection_get_creation_time;
    const char *(*f_c_data)(const otc_connection *) = otc_connection_get_data;
    const char *(*f_c_sid)(const otc_connection *) = otc_connection_get_session_id;
    otc_connection *(*f_c_copy)(const otc_connection *) = otc_connection_copy;
    otc_status (*f_c_delete)(otc_connection *) = otc_connection_delete;
    /* Extensions. */
    otc_status (*f_server_url)(otc_session_settings *, const char *) =
        otc_session_settings_set_server_url;
    otc_status (*f_server_urls)(otc_session_settings *, const char *const *, size_t) =
        otc_session_settings_set_server_urls;
    otc_signal_completion_callback f_completion = hc_completion;
    otc_status (*f_send_many)(otc_session *, const char *, const char *, const char *const *,
                              size_t, struct otc_signal_options, otc_signal_completion_callback,
                              void *, uint64_t *) = otc_session_send_signal_to_connections;
    otc_logger_callback f_logger = hc_logger;
    const void *all[] = {
        (const void *)&f_init, (const void *)&f_destroy, (const void *)&f_set_logger,
        (const void *)&f_log_enable, (const void *)&f_get_level, (const void *)&f_new,
        (const void *)&f_new_ws, (const void *)&f_settings_new, (const void *)&f_suppress,
        (const void *)&f_settings_delete, (const void *)&f_delete, (const void *)&f_connect,
        (const void *)&f_disconnect, (const void *)&f_send, (const void *)&f_send_to,
        (const void *)&f_send_opts, (const void *)&f_send_to_opts, (const void *)&f_get_id,
        (const void *)&f_get_conn, (const void *)&f_caps, (const void *)&f_user_data,
        (const void *)&f_c_id, (const void *)&f_c_time, (const void *)&f_c_data,
        (const void *)&f_c_sid, (const void *)&f_c_copy, (const void *)&f_c_delete,
        (const void *)&f_server_url, (const void *)&f_server_urls, (const void *)&f_completion,
        (const void *)&f_send_many, (const void *)&f_logger};
    return (int)(sizeof all / sizeof all[0]);
}

#endif
