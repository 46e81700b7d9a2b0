/*
 * The media functions from C, as an SDK program calls them:
 *
 *   - a publisher is a real object: made with and without settings, its
 *     settings and flags read back, bad values refused, deleted;
 *   - on a connected session, otc_session_publish fails with
 *     OT_UNABLE_TO_ACCESS_MEDIA_ENGINE (5000), unpublish with
 *     OTC_SESSION_PUBLISHER_NOT_FOUND (1113), subscribe / force mute with
 *     5000, and the session stays connected: a signal still goes round;
 *   - every stream, subscriber, audio device, audio module, capturer,
 *     codec and transformer function returns its failure value for NULL
 *     and for pointers that point to nothing of ours, touching neither the
 *     pointer nor the output arguments;
 *   - each "no media" failure is logged once per function, naming it;
 *   - the media structs have the SDK's sizes and offsets (LP64).
 *
 * Environment from scripts/c-tests.sh (one token is used).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <stddef.h>

#define WAIT_MS 10000
#define MEDIA OT_UNABLE_TO_ACCESS_MEDIA_ENGINE
#define INVALID OTC_SESSION_NULL_OR_INVALID_PARAMETER

static struct client A;

/* ---- a logger that keeps every line ---- */
#define MAX_LINES 4096
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_lines[MAX_LINES];
static int log_count;

static void logger(const char *message) {
    pthread_mutex_lock(&log_lock);
    if (log_count < MAX_LINES) log_lines[log_count++] = h_strdup(message ? message : "(null)");
    pthread_mutex_unlock(&log_lock);
}

/* Lines that report a "no media" failure (error 5000) of `function`. */
static int media_lines(const char *function) {
    char needle[256];
    int i, n = 0;
    snprintf(needle, sizeof needle, " %s: ", function);
    pthread_mutex_lock(&log_lock);
    for (i = 0; i < log_count; i++) {
        n += strstr(log_lines[i], needle) != NULL && strstr(log_lines[i], "(error 5000)") != NULL;
    }
    pthread_mutex_unlock(&log_lock);
    return n;
}

static void free_logs(void) {
    int i;
    pthread_mutex_lock(&log_lock);
    for (i = 0; i < log_count; i++) free(log_lines[i]);
    log_count = 0;
    pthread_mutex_unlock(&log_lock);
}

/* Checks that each of the NULL-terminated list was logged exactly once. */
static void check_logged_once(const char *const *functions) {
    char what[256];
    for (; *functions != NULL; functions++) {
        snprintf(what, sizeof what, "%s: \"no media\" logged once", *functions);
        CHECK_INT(media_lines(*functions), 1, what);
    }
}

/* Pointers nothing of the library is behind (never dereferenced). */
static unsigned char garbage[64];
#define N_BAD 3
static void *bad_pointer(int i) {
    switch (i) {
    case 0: return NULL;
    case 1: return (void *)(uintptr_t)0x10;
    default: return garbage;
    }
}

static int garbage_intact(void) {
    size_t i;
    for (i = 0; i < sizeof garbage; i++) {
        if (garbage[i] != 0xa5) return 0;
    }
    return 1;
}

/* ---- publisher ---- */

typedef otc_status (*bool_setter)(otc_publisher_settings *, otc_bool);

static void test_publisher_settings(void) {
    static const struct {
        const char *name;
        bool_setter set;
    } setters[] = {
        {"set_audio_track", otc_publisher_settings_set_audio_track},
        {"set_video_track", otc_publisher_settings_set_video_track},
        {"set_stereo", otc_publisher_settings_set_stereo},
        {"set_opus_dtx", otc_publisher_settings_set_opus_dtx},
        {"set_auto_gain_control", otc_publisher_settings_set_auto_gain_control},
        {"set_noise_suppression", otc_publisher_settings_set_noise_suppression},
        {"set_echo_cancellation", otc_publisher_settings_set_echo_cancellation},
        {"set_scalable_screenshare", otc_publisher_settings_set_scalable_screenshare},
    };
    struct otc_publisher_callbacks cb;
    struct otc_video_capturer_callbacks capturer;
    otc_publisher_settings *s = otc_publisher_settings_new();
    otc_publisher *p;
    char what[128];
    size_t i;
    int marker = 0;

    memset(&cb, 0, sizeof cb);
    memset(&capturer, 0, sizeof capturer);
    cb.user_data = &marker;
    CHECK(s != NULL, "otc_publisher_settings_new");
    for (i = 0; i < sizeof setters / sizeof setters[0]; i++) {
        snprintf(what, sizeof what, "settings %s", setters[i].name);
        CHECK_INT(setters[i].set(s, OTC_TRUE), OTC_SUCCESS, what);
        snprintf(what, sizeof what, "settings %s(NULL settings) is 1011", setters[i].name);
        CHECK_INT(setters[i].set(NULL, OTC_TRUE), INVALID, what);
    }
    CHECK_INT(otc_publisher_settings_set_name(s, "from settings"), OTC_SUCCESS, "set_name");
    CHECK_INT(otc_publisher_settings_set_name(NULL, "x"), INVALID, "set_name(NULL settings)");
    CHECK_INT(otc_publisher_settings_set_video_capturer(s, &capturer), OTC_SUCCESS,
              "set_video_capturer");
    CHECK_INT(otc_publisher_settings_set_video_capturer(NULL, &capturer), INVALID,
              "set_video_capturer(NULL settings)");
    CHECK_INT(otc_publisher_settings_set_default_camera_capture_resolution(
                  s, OTC_CAMERA_CAPTURE_RESOLUTION_1080P),
              OTC_SUCCESS, "set_default_camera_capture_resolution(1080P)");
    CHECK_INT(otc_publisher_settings_set_default_camera_capture_resolution(
                  s, (enum otc_camera_capture_resolution)17),
              INVALID, "a resolution outside the enum is 1011");
    CHECK_INT(otc_publisher_settings_set_video_track(s, OTC_FALSE), OTC_SUCCESS,
              "video track off");

    p = otc_publisher_new_with_settings(&cb, s);
    CHECK(p != NULL, "otc_publisher_new_with_settings");
    CHECK_INT(otc_publisher_settings_delete(s), OTC_SUCCESS, "settings deleted after use");
    CHECK_INT(otc_publisher_settings_delete(NULL), INVALID, "otc_publisher_settings_delete(NULL)");
    if (p != NULL) {
        CHECK_STR(otc_publisher_get_name(p), "from settings", "the name comes from the settings");
        CHECK(otc_publisher_get_user_data(p) == &marker, "user_data comes from the callbacks");
        CHECK_INT(otc_publisher_get_publish_video(p), OTC_FALSE, "no video track: not publishing video");
        CHECK_INT(otc_publisher_get_publish_audio(p), OTC_TRUE, "audio track: publishing audio");
        CHECK_INT(otc_publisher_delete(p), OTC_SUCCESS, "otc_publisher_delete");
    }
    CHECK(otc_publisher_new_with_settings(NULL, NULL) == NULL,
          "otc_publisher_new_with_settings(NULL callbacks) is NULL");
}

static void test_publisher_object(void) {
    struct otc_publisher_callbacks cb;
    otc_publisher *p, *q;
    otc_video_transformer *vt[1] = {NULL};
    otc_audio_transformer *at[1] = {NULL};
    struct otc_publisher_rtc_stats_report_cb rtc;
    char id[64];

    memset(&cb, 0, sizeof cb);
    memset(&rtc, 0, sizeof rtc);
    CHECK(otc_publisher_new("x", NULL, NULL) == NULL, "otc_publisher_new(NULL callbacks) is NULL");
    p = otc_publisher_new("C camera", NULL, &cb);
    q = otc_publisher_new(NULL, NULL, &cb);
    CHECK(p != NULL && q != NULL, "otc_publisher_new with and without a name");
    if (p == NULL || q == NULL) return;

    CHECK_STR(otc_publisher_get_name(p), "C camera", "otc_publisher_get_name");
    CHECK_STR(otc_publisher_get_name(q), "", "a publisher without a name reads \"\"");
    snprintf(id, sizeof id, "%s", otc_publisher_get_publisher_id(p));
    CHECK_INT(strlen(id), 36, "the publisher id is UUID-shaped");
    CHECK(strcmp(id, otc_publisher_get_publisher_id(q)) != 0, "publisher ids differ");
    CHECK(otc_publisher_get_stream(p) == NULL, "a publisher never has a stream");
    CHECK(otc_publisher_get_session(p) == NULL, "a publisher never has a session");

    CHECK_INT(otc_publisher_set_publish_video(p, OTC_FALSE), OTC_SUCCESS, "set_publish_video");
    CHECK_INT(otc_publisher_get_publish_video(p), OTC_FALSE, "get_publish_video reads it back");
    CHECK_INT(otc_publisher_set_publish_audio(p, OTC_FALSE), OTC_SUCCESS, "set_publish_audio");
    CHECK_INT(otc_publisher_get_publish_audio(p), OTC_FALSE, "get_publish_audio reads it back");
    CHECK_INT(otc_publisher_set_publish_captions(p, OTC_TRUE), OTC_SUCCESS, "set_publish_captions");
    CHECK_INT(otc_publisher_get_publish_captions(p), OTC_TRUE, "get_publish_captions reads it back");
    CHECK_INT(otc_publisher_get_audio_fallback_enabled(p), OTC_TRUE, "audio fallback on by default");
    CHECK_INT(otc_publisher_set_audio_fallback_enabled(p, OTC_FALSE), OTC_SUCCESS,
              "set_audio_fallback_enabled");
    CHECK_INT(otc_publisher_get_audio_fallback_enabled(p), OTC_FALSE, "audio fallback reads back");

    CHECK_INT(otc_publisher_get_video_type(p), OTC_PUBLISHER_VIDEO_TYPE_CAMERA, "camera by default");
    CHECK_INT(otc_publisher_set_video_type(p, OTC_PUBLISHER_VIDEO_TYPE_SCREEN), OTC_SUCCESS,
              "set_video_type(SCREEN)");
    CHECK_INT(otc_publisher_set_video_type(p, (enum otc_publisher_video_type)0), INVALID,
              "a video type outside the enum is 1011");
    CHECK_INT(otc_publisher_get_video_type(p), OTC_PUBLISHER_VIDEO_TYPE_SCREEN,
              "the video type stays SCREEN");

    CHECK_INT(otc_publisher_set_max_video_bitrate(p, 300000), OTC_SUCCESS, "set_max_video_bitrate");
    CHECK_INT(otc_publisher_get_max_video_bitrate(p), 300000, "get_max_video_bitrate");
    CHECK_INT(otc_publisher_get_video_bitrate_preset(p), OTC_VIDEO_BITRATE_PRESET_CUSTOM,
              "a maximum makes the preset CUSTOM");
    CHECK_INT(otc_publisher_set_max_video_bitrate(p, 10), INVALID, "a tiny video bitrate is 1011");
    CHECK_INT(otc_publisher_set_video_bitrate_preset(p, OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER),
              OTC_SUCCESS, "set_video_bitrate_preset(EXTRA_BW_SAVER)");
    CHECK_INT(otc_publisher_get_max_video_bitrate(p), 0, "a preset clears the maximum");
    CHECK_INT(otc_publisher_set_video_bitrate_preset(p, OTC_VIDEO_BITRATE_PRESET_CUSTOM), INVALID,
              "CUSTOM cannot be set directly");
    CHECK_INT(otc_publisher_set_video_bitrate_preset(p, (enum otc_video_bitrate_preset)99), INVALID,
              "a preset outside the enum is 1011");
    CHECK_INT(otc_publisher_get_video_bitrate_preset(p), OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER,
              "the preset stays EXTRA_BW_SAVER");
    CHECK_INT(otc_publisher_set_max_audio_bitrate(p, 64000), OTC_SUCCESS, "set_max_audio_bitrate");
    CHECK_INT(otc_publisher_set_max_audio_bitrate(p, 0xffffffffu), INVALID,
              "a huge audio bitrate is 1011");

    CHECK_INT(otc_publisher_set_video_transformers(p, vt, 1), MEDIA, "set_video_transformers: 5000");
    CHECK_INT(otc_publisher_set_audio_transformers(p, at, (size_t)-1), MEDIA,
              "set_audio_transformers: 5000");
    CHECK_INT(otc_publisher_set_rtc_stats_report_cb(p, rtc), MEDIA, "set_rtc_stats_report_cb: 5000");
    CHECK_INT(otc_publisher_get_rtc_stats_report(p), MEDIA, "get_rtc_stats_report: 5000");

    /* NULL publisher: every function refuses it. */
    CHECK(otc_publisher_get_name(NULL) == NULL, "get_name(NULL)");
    CHECK(otc_publisher_get_publisher_id(NULL) == NULL, "get_publisher_id(NULL)");
    CHECK(otc_publisher_get_user_data(NULL) == NULL, "get_user_data(NULL)");
    CHECK(otc_publisher_get_stream(NULL) == NULL, "get_stream(NULL)");
    CHECK(otc_publisher_get_session(NULL) == NULL, "get_session(NULL)");
    CHECK_INT(otc_publisher_set_publish_video(NULL, OTC_TRUE), INVALID, "set_publish_video(NULL)");
    CHECK_INT(otc_publisher_set_publish_audio(NULL, OTC_TRUE), INVALID, "set_publish_audio(NULL)");
    CHECK_INT(otc_publisher_set_publish_captions(NULL, OTC_TRUE), INVALID, "set_publish_captions(NULL)");
    CHECK_INT(otc_publisher_set_audio_fallback_enabled(NULL, OTC_TRUE), INVALID,
              "set_audio_fallback_enabled(NULL)");
    CHECK_INT(otc_publisher_set_video_type(NULL, OTC_PUBLISHER_VIDEO_TYPE_CAMERA), INVALID,
              "set_video_type(NULL)");
    CHECK_INT(otc_publisher_set_video_bitrate_preset(NULL, OTC_VIDEO_BITRATE_PRESET_DEFAULT), INVALID,
              "set_video_bitrate_preset(NULL)");
    CHECK_INT(otc_publisher_set_max_video_bitrate(NULL, 300000), INVALID, "set_max_video_bitrate(NULL)");
    CHECK_INT(otc_publisher_set_max_audio_bitrate(NULL, 64000), INVALID, "set_max_audio_bitrate(NULL)");
    CHECK_INT(otc_publisher_get_publish_video(NULL), OTC_FALSE, "get_publish_video(NULL)");
    CHECK_INT(otc_publisher_get_publish_audio(NULL), OTC_FALSE, "get_publish_audio(NULL)");
    CHECK_INT(otc_publisher_get_publish_captions(NULL), OTC_FALSE, "get_publish_captions(NULL)");
    CHECK_INT(otc_publisher_get_audio_fallback_enabled(NULL), OTC_FALSE,
              "get_audio_fallback_enabled(NULL)");
    CHECK_INT(otc_publisher_get_video_type(NULL), OTC_PUBLISHER_VIDEO_TYPE_CAMERA, "get_video_type(NULL)");
    CHECK_INT(otc_publisher_get_video_bitrate_preset(NULL), OTC_VIDEO_BITRATE_PRESET_DEFAULT,
              "get_video_bitrate_preset(NULL)");
    CHECK_INT(otc_publisher_get_max_video_bitrate(NULL), 0, "get_max_video_bitrate(NULL)");
    CHECK_INT(otc_publisher_delete(NULL), INVALID, "otc_publisher_delete(NULL)");

    CHECK_INT(otc_publisher_delete(p), OTC_SUCCESS, "delete p");
    CHECK_INT(otc_publisher_delete(q), OTC_SUCCESS, "delete q");
}

/* ---- session.h media functions ---- */

static void test_session_media(const struct test_env *e) {
    struct otc_publisher_callbacks cb;
    otc_publisher *p;
    const char *ids[1] = {"a-stream"};
    otc_session *stray = (otc_session *)(uintptr_t)0x1000;
    int i;

    memset(&cb, 0, sizeof cb);
    p = otc_publisher_new("publisher", NULL, &cb);
    CHECK(p != NULL, "a publisher to publish");
    CHECK(client_new(&A, "media", e, NULL), "session created");
    if (p == NULL || A.session == NULL) return;

    /* Before connecting. */
    CHECK_INT(otc_session_publish(A.session, p), OTC_SESSION_NOT_CONNECTED,
              "publish before connecting is 1010");
    CHECK_INT(otc_session_disable_force_mute(A.session), OTC_SESSION_NOT_CONNECTED,
              "disable_force_mute before connecting is 1010");

    CHECK(client_connect(&A, e->token[0]), "connected");
    if (!A.connected) return;

    CHECK_INT(otc_session_publish(A.session, p), MEDIA, "publish on a connected session: 5000");
    CHECK_INT(otc_session_publish(A.session, p), MEDIA, "publish again: 5000");
    CHECK_INT(otc_session_publish(A.session, NULL), INVALID, "publish(NULL publisher) is 1011");
    CHECK_INT(otc_session_publish(NULL, p), INVALID, "publish(NULL session) is 1011");
    CHECK_INT(otc_session_publish(stray, p), INVALID, "publish on a never-created session is 1011");
    CHECK_INT(otc_session_unpublish(A.session, p), OTC_SESSION_PUBLISHER_NOT_FOUND,
              "unpublish: 1113 (never published)");
    CHECK_INT(otc_session_unpublish(A.session, NULL), INVALID, "unpublish(NULL publisher) is 1011");
    for (i = 0; i < N_BAD; i++) {
        otc_subscriber *s = bad_pointer(i);
        CHECK_INT(otc_session_subscribe(A.session, s), s == NULL ? INVALID : MEDIA,
                  "subscribe: 1011 for NULL, else 5000");
        CHECK_INT(otc_session_unsubscribe(A.session, s),
                  s == NULL ? INVALID : OTC_SESSION_SUBSCRIBER_NOT_FOUND,
                  "unsubscribe: 1011 for NULL, else 1112");
    }
    CHECK_INT(otc_session_force_mute_all(A.session, NULL, 0), MEDIA, "force_mute_all: 5000");
    CHECK_INT(otc_session_force_mute_all(A.session, ids, 1), MEDIA, "force_mute_all with ids: 5000");
    CHECK_INT(otc_session_force_mute_all(A.session, ids, -5), INVALID,
              "force_mute_all with a negative length is 1011");
    CHECK_INT(otc_session_force_mute_all(A.session, NULL, 2), INVALID,
              "force_mute_all with NULL ids and a length is 1011");
    CHECK_INT(otc_session_force_mute_stream(A.session, "a-stream"), MEDIA, "force_mute_stream: 5000");
    CHECK_INT(otc_session_force_mute_stream(A.session, NULL), INVALID,
              "force_mute_stream(NULL id) is 1011");
    CHECK_INT(otc_session_force_mute_stream(NULL, "a-stream"), INVALID,
              "force_mute_stream(NULL session) is 1011");
    CHECK_INT(otc_session_disable_force_mute(A.session), MEDIA, "disable_force_mute: 5000");

    /* Still connected: our own broadcast comes back. */
    CHECK(otc_session_get_connection(A.session) != NULL, "still connected after the media calls");
    CHECK_INT(otc_session_send_signal(A.session, "media", "still-here"), OTC_SUCCESS,
              "a signal after publishing");
    CHECK(client_wait(&A, p_signal_data, "still-here", WAIT_MS), "the signal comes back");
    CHECK_INT(A.errors, 0, "no on_error");
    CHECK_INT(otc_publisher_delete(p), OTC_SUCCESS, "publisher deleted");
}

/* ---- streams and subscribers ---- */

static void test_streams_and_subscribers(void) {
    struct otc_subscriber_callbacks cb;
    struct otc_subscriber_rtc_stats_report_cb rtc;
    int i;

    memset(&cb, 0, sizeof cb);
    memset(&rtc, 0, sizeof rtc);
    for (i = 0; i < N_BAD; i++) {
        otc_stream *st = bad_pointer(i);
        otc_subscriber *s = bad_pointer(i);
        uint32_t w = 11, h = 12;
        double vol = 0.25;
        float fps = 7.5f;

        CHECK(otc_stream_get_id(st) == NULL, "otc_stream_get_id: NULL");
        CHECK(otc_stream_get_name(st) == NULL, "otc_stream_get_name: NULL");
        CHECK_INT(otc_stream_has_video_track(st), OTC_FALSE, "otc_stream_has_video_track: false");
        CHECK_INT(otc_stream_has_video(st), OTC_FALSE, "otc_stream_has_video: false");
        CHECK_INT(otc_stream_has_audio_track(st), OTC_FALSE, "otc_stream_has_audio_track: false");
        CHECK_INT(otc_stream_has_audio(st), OTC_FALSE, "otc_stream_has_audio: false");
        CHECK_INT(otc_stream_has_captions(st), OTC_FALSE, "otc_stream_has_captions: false");
        CHECK(otc_stream_copy(st) == NULL, "otc_stream_copy: NULL");
        CHECK_INT(otc_stream_delete(st), MEDIA, "otc_stream_delete: 5000");
        CHECK_INT(otc_stream_get_video_width(st), 0, "otc_stream_get_video_width: 0");
        CHECK_INT(otc_stream_get_video_height(st), 0, "otc_stream_get_video_height: 0");
        CHECK_INT(otc_stream_get_creation_time(st), 0, "otc_stream_get_creation_time: 0");
        CHECK_INT(otc_stream_get_video_type(st), OTC_STREAM_VIDEO_TYPE_CAMERA,
                  "otc_stream_get_video_type: CAMERA");
        CHECK(otc_stream_get_connection(st) == NULL, "otc_stream_get_connection: NULL");

        CHECK(otc_subscriber_new(st, &cb) == NULL, "otc_subscriber_new: NULL");
        CHECK(otc_subscriber_new(st, NULL) == NULL, "otc_subscriber_new(NULL callbacks): NULL");
        CHECK_INT(otc_subscriber_delete(s), MEDIA, "otc_subscriber_delete: 5000");
        CHECK(otc_subscriber_get_stream(s) == NULL, "otc_subscriber_get_stream: NULL");
        CHECK_INT(otc_subscriber_set_subscribe_to_video(s, OTC_TRUE), MEDIA, "set_subscribe_to_video: 5000");
        CHECK_INT(otc_subscriber_set_subscribe_to_audio(s, OTC_TRUE), MEDIA, "set_subscribe_to_audio: 5000");
        CHECK_INT(otc_subscriber_set_subscribe_to_captions(s, OTC_TRUE), MEDIA,
                  "set_subscribe_to_captions: 5000");
        CHECK_INT(otc_subscriber_get_subscribe_to_video(s), OTC_FALSE, "get_subscribe_to_video: false");
        CHECK_INT(otc_subscriber_get_subscribe_to_audio(s), OTC_FALSE, "get_subscribe_to_audio: false");
        CHECK_INT(otc_subscriber_get_subscribe_to_captions(s), OTC_FALSE,
                  "get_subscribe_to_captions: false");
        CHECK(otc_subscriber_get_session(s) == NULL, "otc_subscriber_get_session: NULL");
        CHECK_INT(otc_subscriber_set_preferred_resolution(s, 0xffffffffu, 0), MEDIA,
                  "set_preferred_resolution: 5000");
        CHECK_INT(otc_subscriber_get_preferred_resolution(s, &w, &h), MEDIA,
                  "get_preferred_resolution: 5000");
        CHECK_INT(otc_subscriber_get_preferred_resolution(s, NULL, NULL), MEDIA,
                  "get_preferred_resolution(NULL outputs): 5000");
        CHECK_INT(otc_subscriber_set_audio_volume(s, -1e308), MEDIA, "set_audio_volume: 5000");
        CHECK_INT(otc_subscriber_get_audio_volume(s, &vol), MEDIA, "get_audio_volume: 5000");
        CHECK_INT(otc_subscriber_set_preferred_framerate(s, 1e30f), MEDIA,
                  "set_preferred_framerate: 5000");
        CHECK_INT(otc_subscriber_get_preferred_framerate(s, &fps), MEDIA,
                  "get_preferred_framerate: 5000");
        CHECK(otc_subscriber_get_subscriber_id(s) == NULL, "otc_subscriber_get_subscriber_id: NULL");
        CHECK(otc_subscriber_get_user_data(s) == NULL, "otc_subscriber_get_user_data: NULL");
        CHECK_INT(otc_subscriber_get_rtc_stats_report(s), MEDIA, "get_rtc_stats_report: 5000");
        CHECK_INT(otc_subscriber_set_rtc_stats_report_cb(s, rtc), MEDIA,
                  "set_rtc_stats_report_cb: 5000");
        CHECK(w == 11 && h == 12 && vol == 0.25 && fps == 7.5f, "output arguments untouched");
    }
    CHECK(garbage_intact(), "the pointed-to bytes were not touched");
}

/* ---- devices, capturers, codecs, transformers ---- */

static void test_devices(void) {
    struct otc_audio_device_callbacks device;
    int16_t samples[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    otc_media_utils_codecs *codecs = (otc_media_utils_codecs *)(uintptr_t)0x18;
    int i, j;
    static const int indexes[] = {0, -1, 2147483647};

    memset(&device, 0, sizeof device);
    CHECK_INT(otc_set_audio_device(&device), MEDIA, "otc_set_audio_device: 5000");
    CHECK_INT(otc_set_audio_device(NULL), MEDIA, "otc_set_audio_device(NULL): 5000");
    CHECK_INT(otc_audio_device_read_render_data(samples, 8), 0, "read_render_data: 0 samples");
    CHECK_INT(otc_audio_device_read_render_data(NULL, (size_t)-1), 0,
              "read_render_data(NULL, huge): 0 samples");
    CHECK_INT(otc_audio_device_write_capture_data(samples, 8), MEDIA, "write_capture_data: 5000");
    CHECK_INT(otc_audio_device_write_capture_data(NULL, (size_t)-1), MEDIA,
              "write_capture_data(NULL, huge): 5000");
    CHECK(samples[0] == 1 && samples[7] == 8, "no samples written");

    CHECK(otc_audio_module_input_device_enumerator_new() == NULL, "input enumerator_new: NULL");
    CHECK(otc_audio_module_output_device_enumerator_new() == NULL, "output enumerator_new: NULL");
    CHECK_INT(otc_audio_module_input_device_select("default"), MEDIA, "input_device_select: 5000");
    CHECK_INT(otc_audio_module_input_device_select(NULL), MEDIA, "input_device_select(NULL): 5000");
    CHECK_INT(otc_audio_module_output_device_select("default"), MEDIA, "output_device_select: 5000");
    CHECK_INT(otc_audio_module_output_device_select(NULL), MEDIA, "output_device_select(NULL): 5000");
    for (i = 0; i < N_BAD; i++) {
        otc_audio_module_input_device_enumerator *in = bad_pointer(i);
        otc_audio_module_output_device_enumerator *out = bad_pointer(i);
        otc_video_capturer *cap = bad_pointer(i);
        CHECK_INT(otc_audio_module_input_device_enumerator_size(in), 0, "input enumerator_size: 0");
        CHECK_INT(otc_audio_module_output_device_enumerator_size(out), 0, "output enumerator_size: 0");
        for (j = 0; j < 3; j++) {
            CHECK(otc_audio_module_input_device_enumerator_get_device_id(in, indexes[j]) == NULL,
                  "input get_device_id: NULL");
            CHECK(otc_audio_module_input_device_enumerator_get_device_name(in, indexes[j]) == NULL,
                  "input get_device_name: NULL");
            CHECK(otc_audio_module_output_device_enumerator_get_device_id(out, indexes[j]) == NULL,
                  "output get_device_id: NULL");
            CHECK(otc_audio_module_output_device_enumerator_get_device_name(out, indexes[j]) == NULL,
                  "output get_device_name: NULL");
        }
        CHECK_INT(otc_audio_module_input_device_enumerator_delete(in), MEDIA,
                  "input enumerator_delete: 5000");
        CHECK_INT(otc_audio_module_output_device_enumerator_delete(out), MEDIA,
                  "output enumerator_delete: 5000");

        CHECK_INT(otc_video_capturer_provide_frame(cap, 90, NULL), MEDIA, "provide_frame: 5000");
        CHECK_INT(otc_video_capturer_provide_frame(cap, -7, (const otc_video_frame *)garbage), MEDIA,
                  "provide_frame(bad frame): 5000");
        CHECK_INT(otc_video_capturer_set_content_hint(cap, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_TEXT),
                  MEDIA, "set_content_hint: 5000");
        CHECK_INT(otc_video_capturer_set_content_hint(cap, (enum otc_video_capturer_content_hint_type)-3),
                  MEDIA, "set_content_hint(outside the enum): 5000");
        CHECK_INT(otc_video_capturer_get_content_hint(cap), OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE,
                  "get_content_hint: NONE");

        CHECK_INT(otc_media_utils_codecs_delete(bad_pointer(i)), MEDIA, "codecs_delete: 5000");
        CHECK_INT(otc_video_transformer_delete(bad_pointer(i)), MEDIA, "video_transformer_delete: 5000");
        CHECK_INT(otc_audio_transformer_delete(bad_pointer(i)), MEDIA, "audio_transformer_delete: 5000");
    }
    CHECK_INT(otc_media_utils_get_supported_codecs(&codecs), MEDIA, "get_supported_codecs: 5000");
    CHECK(codecs == (otc_media_utils_codecs *)(uintptr_t)0x18, "get_supported_codecs wrote nothing");
    CHECK_INT(otc_media_utils_get_supported_codecs(NULL), MEDIA, "get_supported_codecs(NULL): 5000");
    CHECK(otc_video_transformer_create(OTC_MEDIA_TRANSFORMER_TYPE_VONAGE, "BackgroundBlur",
                                       "{\"radius\":\"High\"}", NULL, NULL) == NULL,
          "video_transformer_create: NULL");
    CHECK(otc_video_transformer_create((enum otc_media_transformer_type)42, NULL, NULL, NULL, NULL) ==
              NULL,
          "video_transformer_create(outside the enum): NULL");
    CHECK(otc_audio_transformer_create(OTC_MEDIA_TRANSFORMER_TYPE_CUSTOM, "x", NULL, NULL, NULL) == NULL,
          "audio_transformer_create: NULL");
    CHECK(garbage_intact(), "the pointed-to bytes were not touched");
}

static void test_logged_once(void) {
    static const char *const functions[] = {
        "otc_session_publish",
        "otc_session_subscribe",
        "otc_session_force_mute_all",
        "otc_session_force_mute_stream",
        "otc_session_disable_force_mute",
        "otc_publisher_set_video_transformers",
        "otc_publisher_set_audio_transformers",
        "otc_publisher_set_rtc_stats_report_cb",
        "otc_publisher_get_rtc_stats_report",
        "otc_stream_get_id",
        "otc_stream_has_video",
        "otc_stream_has_video_track",
        "otc_stream_delete",
        "otc_stream_get_connection",
        "otc_subscriber_new",
        "otc_subscriber_delete",
        "otc_subscriber_get_preferred_resolution",
        "otc_subscriber_set_rtc_stats_report_cb",
        "otc_set_audio_device",
        "otc_audio_device_read_render_data",
        "otc_audio_device_write_capture_data",
        "otc_audio_module_input_device_enumerator_new",
        "otc_audio_module_output_device_enumerator_get_device_name",
        "otc_audio_module_output_device_select",
        "otc_video_capturer_provide_frame",
        "otc_video_capturer_get_content_hint",
        "otc_media_utils_get_supported_codecs",
        "otc_media_utils_codecs_delete",
        "otc_video_transformer_create",
        "otc_audio_transformer_delete",
        NULL,
    };
    check_logged_once(functions);
    CHECK_INT(media_lines("otc_publisher_get_name"), 0,
              "a refused publisher call is not reported as \"no media\"");
}

/* ---- layout ---- */

static void test_layout(void) {
    const size_t p = sizeof(void *);
    CHECK_INT(sizeof(struct otc_publisher_callbacks), 14 * p, "sizeof otc_publisher_callbacks");
    CHECK_INT(offsetof(struct otc_publisher_callbacks, on_error), 7 * p,
              "offsetof otc_publisher_callbacks.on_error");
    CHECK_INT(offsetof(struct otc_publisher_callbacks, user_data), 12 * p,
              "offsetof otc_publisher_callbacks.user_data");
    CHECK_INT(sizeof(struct otc_subscriber_callbacks), 19 * p, "sizeof otc_subscriber_callbacks");
    CHECK_INT(offsetof(struct otc_subscriber_callbacks, on_audio_data), 16 * p,
              "offsetof otc_subscriber_callbacks.on_audio_data");
    CHECK_INT(sizeof(struct otc_audio_device_callbacks), 20 * p, "sizeof otc_audio_device_callbacks");
    CHECK_INT(sizeof(struct otc_video_capturer_callbacks), 7 * p, "sizeof otc_video_capturer_callbacks");
    CHECK_INT(sizeof(struct otc_publisher_audio_stats), 64, "sizeof otc_publisher_audio_stats");
    CHECK_INT(offsetof(struct otc_publisher_audio_stats, timestamp), 48,
              "offsetof otc_publisher_audio_stats.timestamp");
    CHECK_INT(sizeof(struct otc_publisher_video_stats), 56, "sizeof otc_publisher_video_stats");
    CHECK_INT(sizeof(struct otc_subscriber_audio_stats), 40, "sizeof otc_subscriber_audio_stats");
    CHECK_INT(sizeof(struct otc_subscriber_video_stats), 32, "sizeof otc_subscriber_video_stats");
    CHECK_INT(sizeof(struct otc_audio_data), 32, "sizeof otc_audio_data");
    CHECK_INT(offsetof(struct otc_audio_data, number_of_samples), 24,
              "offsetof otc_audio_data.number_of_samples");
    CHECK_INT(sizeof(struct otc_video_capturer_settings), 24, "sizeof otc_video_capturer_settings");
    CHECK_INT(sizeof(struct otc_media_utils_codecs), 32, "sizeof otc_media_utils_codecs");
    CHECK_INT(sizeof(struct otc_publisher_rtc_stats_report_cb), 3 * p,
              "sizeof otc_publisher_rtc_stats_report_cb");
    CHECK_INT(OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_SYMBOL_NOT_FOUND,
              OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 7, "transformer error codes count from 0x0A000000");
}

int main(void) {
    struct test_env e = test_env(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(garbage, 0xa5, sizeof garbage);
    otc_log_set_logger_callback(logger);
    otc_log_enable(OTC_LOG_LEVEL_WARN);
    if (otc_init(NULL) != OTC_SUCCESS) {
        printf("FAIL otc_init\n");
        return finish() | 1;
    }
    test_layout();
    test_publisher_settings();
    test_publisher_object();
    test_streams_and_subscribers();
    test_devices();
    test_session_media(&e);
    /* Everything above ran at least twice per function (bad pointers) or
     * was called twice on purpose. */
    test_logged_once();
    client_free(&A);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");
    otc_log_set_logger_callback(NULL);
    free_logs();
    return finish();
}
