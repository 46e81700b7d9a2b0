/*
 * Compile-time checks of the media part of <opentok.h> (publisher.h,
 * subscriber.h, stream.h, audio_device.h, audio_module_*_device.h,
 * video_capturer.h, media_utils.h, media_transformer.h and the media
 * functions of session.h) against the Vonage Linux SDK, in the manner of
 * header_checks.h, which it needs first:
 *
 * - enum members and the transformer error base have the SDK's values;
 * - the structs have the SDK's layout (LP64), callback fields in order;
 * - every callback field accepts a function spelled with the SDK's
 *   parameter types;
 * - every media function has the SDK's exact type (see header_checks.h).
 */
#ifndef OTC_HEADER_MEDIA_CHECKS_H
#define OTC_HEADER_MEDIA_CHECKS_H

#include "header_checks.h"

/* ---- values ---- */
HC_ASSERT(OTC_PUBLISHER_INTERNAL_ERROR == 2000, pe2000);
HC_ASSERT(OTC_PUBLISHER_SESSION_DISCONNECTED == 1010, pe1010);
HC_ASSERT(OTC_PUBLISHER_TIMED_OUT == 1541, pe1541);
HC_ASSERT(OTC_PUBLISHER_UNABLE_TO_PUBLISH == 1500, pe1500);
HC_ASSERT(OTC_PUBLISHER_WEBRTC_ERROR == 1610, pe1610);
HC_ASSERT(OTC_PUBLISHER_ENCRYPTION_INTERNAL_ERROR == 6001, pe6001);
HC_ASSERT(OTC_PUBLISHER_ENCRYPTION_UNSUPPORTED_CODEC == 6005, pe6005);
HC_ASSERT(OTC_PUBLISHER_VIDEO_TYPE_CAMERA == 1 && OTC_PUBLISHER_VIDEO_TYPE_SCREEN == 2, pvt);
HC_ASSERT(OTC_MEDIA_TYPE_VIDEO == 0 && OTC_MEDIA_TYPE_AUDIO == 1, mt);
HC_ASSERT(OTC_VIDEO_BITRATE_PRESET_DEFAULT == 0 && OTC_VIDEO_BITRATE_PRESET_BW_SAVER == 1 &&
              OTC_VIDEO_BITRATE_PRESET_EXTRA_BW_SAVER == 2 && OTC_VIDEO_BITRATE_PRESET_CUSTOM == 3,
          vbp);
HC_ASSERT(OTC_CAMERA_CAPTURE_RESOLUTION_LOW == 0 && OTC_CAMERA_CAPTURE_RESOLUTION_MEDIUM == 1 &&
              OTC_CAMERA_CAPTURE_RESOLUTION_HIGH == 2 && OTC_CAMERA_CAPTURE_RESOLUTION_1080P == 3,
          ccr);
HC_ASSERT(OTC_SUBSCRIBER_INTERNAL_ERROR == 2000, se2000);
HC_ASSERT(OTC_SUBSCRIBER_SESSION_DISCONNECTED == 1010, se1010);
HC_ASSERT(OTC_SUBSCRIBER_SERVER_CANNOT_FIND_STREAM == 1604, se1604);
HC_ASSERT(OTC_SUBSCRIBER_STREAM_LIMIT_EXCEEDED == 1605, se1605);
HC_ASSERT(OTC_SUBSCRIBER_TIMED_OUT == 1542, se1542);
HC_ASSERT(OTC_SUBSCRIBER_WEBRTC_ERROR == 1600, se1600);
HC_ASSERT(OTC_VIDEO_REASON_PUBLISH_VIDEO == 1 && OTC_VIDEO_REASON_SUBSCRIBE_TO_VIDEO == 2 &&
              OTC_VIDEO_REASON_QUALITY == 3 && OTC_VIDEO_REASON_CODEC_NOT_SUPPORTED == 4,
          vr);
HC_ASSERT(OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_NONE == 0 &&
              OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_MOTION == 1 &&
              OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_DETAIL == 2 &&
              OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_TEXT == 3,
          ch);
HC_ASSERT(OTC_VIDEO_CODEC_VP8 == 1 && OTC_VIDEO_CODEC_H264 == 2, vc);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_ERROR_SPACE == 0x0A000000, mt_space);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_INTERNAL_ERROR == OTC_MEDIA_TRANSFORMER_ERROR_SPACE, mte0);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_INVALID_TYPE == OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 1, mte1);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_NAME_NOT_PROVIDED == OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 2, mte2);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_CUSTOM_CALLBACK_NOT_PROVIDED == OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 3,
          mte3);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_PROPERTIES_NOT_PROVIDED == OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 4,
          mte4);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_MODEL_NOT_FOUND == OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 5, mte5);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_LIBRARY_NOT_LOADED ==
              OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 6,
          mte6);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_OPENTOK_TRANSFORMERS_SYMBOL_NOT_FOUND ==
              OTC_MEDIA_TRANSFORMER_ERROR_SPACE + 7,
          mte7);
HC_ASSERT(OTC_MEDIA_TRANSFORMER_TYPE_CUSTOM == 0 && OTC_MEDIA_TRANSFORMER_TYPE_VONAGE == 1, mtt);

/* ---- layouts (LP64; P is one pointer) ---- */
#define HM_P sizeof(void *)
#define HM_AT(type, field, off) HC_ASSERT(offsetof(struct type, field) == (off), type##_##field)
#define HM_SIZE(type, size) HC_ASSERT(sizeof(struct type) == (size), type##_size)
HM_SIZE(otc_publisher_callbacks, 14 * HM_P);
HM_AT(otc_publisher_callbacks, on_stream_created, 0);
HM_AT(otc_publisher_callbacks, on_publisher_mute_forced, 4 * HM_P);
HM_AT(otc_publisher_callbacks, on_audio_stats, 5 * HM_P);
HM_AT(otc_publisher_callbacks, on_error, 7 * HM_P);
HM_AT(otc_publisher_callbacks, on_video_disabled, 8 * HM_P);
HM_AT(otc_publisher_callbacks, on_video_disable_warning_lifted, 11 * HM_P);
HM_AT(otc_publisher_callbacks, user_data, 12 * HM_P);
HM_AT(otc_publisher_callbacks, reserved, 13 * HM_P);
HM_SIZE(otc_subscriber_callbacks, 19 * HM_P);
HM_AT(otc_subscriber_callbacks, on_render_frame, 3 * HM_P);
HM_AT(otc_subscriber_callbacks, on_video_data_received, 8 * HM_P);
HM_AT(otc_subscriber_callbacks, on_caption_text, 10 * HM_P);
HM_AT(otc_subscriber_callbacks, on_video_disable_warning_lifted, 11 * HM_P);
HM_AT(otc_subscriber_callbacks, on_error, 15 * HM_P);
HM_AT(otc_subscriber_callbacks, on_audio_data, 16 * HM_P);
HM_AT(otc_subscriber_callbacks, user_data, 17 * HM_P);
HM_SIZE(otc_audio_device_callbacks, 20 * HM_P);
HM_AT(otc_audio_device_callbacks, get_estimated_capture_delay, 8 * HM_P);
HM_AT(otc_audio_device_callbacks, init_renderer, 10 * HM_P);
HM_AT(otc_audio_device_callbacks, get_render_settings, 17 * HM_P);
HM_AT(otc_audio_device_callbacks, user_data, 18 * HM_P);
HM_SIZE(otc_video_capturer_callbacks, 7 * HM_P);
HM_AT(otc_video_capturer_callbacks, get_capture_settings, 4 * HM_P);
HM_AT(otc_video_capturer_callbacks, user_data, 5 * HM_P);
HM_SIZE(otc_publisher_rtc_stats_report_cb, 3 * HM_P);
HM_AT(otc_publisher_rtc_stats_report_cb, on_rtc_stats_report, HM_P);
HM_SIZE(otc_subscriber_rtc_stats_report_cb, 3 * HM_P);
HM_AT(otc_subscriber_rtc_stats_report_cb, on_rtc_stats_report, HM_P);
HM_SIZE(otc_publisher_rtc_stats, 16);
HM_SIZE(otc_publisher_audio_stats, 64);
HM_AT(otc_publisher_audio_stats, packets_lost, 16);
HM_AT(otc_publisher_audio_stats, audio_level, 40);
HM_AT(otc_publisher_audio_stats, start_time, 56);
HM_SIZE(otc_publisher_video_stats, 56);
HM_AT(otc_publisher_video_stats, timestamp, 40);
HM_SIZE(otc_subscriber_audio_stats, 40);
HM_AT(otc_subscriber_audio_stats, audio_level, 24);
HM_AT(otc_subscriber_audio_stats, timestamp, 32);
HM_SIZE(otc_subscriber_video_stats, 32);
HM_SIZE(otc_audio_data, 32);
HM_AT(otc_audio_data, bits_per_sample, 8);
HM_AT(otc_audio_data, number_of_channels, 16);
HM_SIZE(otc_audio_device_settings, 8);
HM_SIZE(otc_video_capturer_settings, 24);
HM_AT(otc_video_capturer_settings, mirror_on_local_render, 20);
HM_SIZE(otc_media_utils_codecs, 32);
HM_AT(otc_media_utils_codecs, encoder_video_codecs, 8);
HM_AT(otc_media_utils_codecs, decoder_video_codecs, 24);

/* ---- callback field types, spelled with the SDK's parameter types ---- */
#define HM_UNUSED2(a, b) ((void)(a), (void)(b))
static void hm_p0(otc_publisher *p, void *u) { HM_UNUSED2(p, u); }
static void hm_p_stream(otc_publisher *p, void *u, const otc_stream *s) { HM_UNUSED2(p, u); (void)s; }
static void hm_p_frame(otc_publisher *p, void *u, const otc_video_frame *f) { HM_UNUSED2(p, u); (void)f; }
static void hm_p_level(otc_publisher *p, void *u, float l) { HM_UNUSED2(p, u); (void)l; }
static void hm_p_astats(otc_publisher *p, void *u, struct otc_publisher_audio_stats s[], size_t n) {
    HM_UNUSED2(p, u); HM_UNUSED2(s, n);
}
static void hm_p_vstats(otc_publisher *p, void *u, struct otc_publisher_video_stats s[], size_t n) {
    HM_UNUSED2(p, u); HM_UNUSED2(s, n);
}
static void hm_p_error(otc_publisher *p, void *u, const char *m, enum otc_publisher_error_code e) {
    HM_UNUSED2(p, u); HM_UNUSED2(m, e);
}
static void hm_p_reason(otc_publisher *p, void *u, enum otc_video_reason r) { HM_UNUSED2(p, u); (void)r; }
static void hm_p_rtc(otc_publisher *p, void *u, const struct otc_publisher_rtc_stats *s, size_t n) {
    HM_UNUSED2(p, u); HM_UNUSED2(s, n);
}
static void hm_s0(otc_subscriber *s, void *u) { HM_UNUSED2(s, u); }
static void hm_s_stream(otc_subscriber *s, void *u, const otc_stream *st) { HM_UNUSED2(s, u); (void)st; }
static void hm_s_frame(otc_subscriber *s, void *u, const otc_video_frame *f) { HM_UNUSED2(s, u); (void)f; }
static void hm_s_reason(otc_subscriber *s, void *u, enum otc_video_reason r) { HM_UNUSED2(s, u); (void)r; }
static void hm_s_caption(otc_subscriber *s, void *u, const char *t, otc_bool f) {
    HM_UNUSED2(s, u); HM_UNUSED2(t, f);
}
static void hm_s_astats(otc_subscriber *s, void *u, struct otc_subscriber_audio_stats a) {
    HM_UNUSED2(s, u); (void)a;
}
static void hm_s_vstats(otc_subscriber *s, void *u, struct otc_subscriber_video_stats v) {
    HM_UNUSED2(s, u); (void)v;
}
static void hm_s_level(otc_subscriber *s, void *u, float l) { HM_UNUSED2(s, u); (void)l; }
static void hm_s_error(otc_subscriber *s, void *u, const char *m, enum otc_subscriber_error_code e) {
    HM_UNUSED2(s, u); HM_UNUSED2(m, e);
}
static void hm_s_audio(otc_subscriber *s, void *u, const struct otc_audio_data *a) {
    HM_UNUSED2(s, u); (void)a;
}
static void hm_s_rtc(otc_subscriber *s, void *u, const char *json) { HM_UNUSED2(s, u); (void)json; }
static otc_bool hm_c0(const otc_video_capturer *c, void *u) { HM_UNUSED2(c, u); return OTC_TRUE; }
static otc_bool hm_c_settings(const otc_video_capturer *c, void *u, struct otc_video_capturer_settings *s) {
    HM_UNUSED2(c, u); (void)s; return OTC_TRUE;
}
static otc_bool hm_d0(const otc_audio_device *d, void *u) { HM_UNUSED2(d, u); return OTC_TRUE; }
static int hm_d_delay(const otc_audio_device *d, void *u) { HM_UNUSED2(d, u); return 0; }
static otc_bool hm_d_settings(const otc_audio_device *d, void *u, struct otc_audio_device_settings *s) {
    HM_UNUSED2(d, u); (void)s; return OTC_TRUE;
}
static void hm_vt(void *u, struct otc_video_frame *f) { HM_UNUSED2(u, f); }
static void hm_at(void *u, struct otc_audio_data *a) { HM_UNUSED2(u, a); }

/* Fills every callback field of every media struct; returns how many
 * structs were filled. */
static int hm_fill_callbacks(void) {
    struct otc_publisher_callbacks p;
    struct otc_subscriber_callbacks s;
    struct otc_video_capturer_callbacks c;
    struct otc_audio_device_callbacks d;
    struct otc_publisher_rtc_stats_report_cb prtc;
    struct otc_subscriber_rtc_stats_report_cb srtc;
    video_transform_callback vt = hm_vt;
    audio_transform_callback at = hm_at;
    memset(&p, 0, sizeof p);
    memset(&s, 0, sizeof s);
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    memset(&prtc, 0, sizeof prtc);
    memset(&srtc, 0, sizeof srtc);
    p.on_stream_created = hm_p_stream;
    p.on_stream_destroyed = hm_p_stream;
    p.on_render_frame = hm_p_frame;
    p.on_audio_level_updated = hm_p_level;
    p.on_publisher_mute_forced = hm_p0;
    p.on_audio_stats = hm_p_astats;
    p.on_video_stats = hm_p_vstats;
    p.on_error = hm_p_error;
    p.on_video_disabled = hm_p_reason;
    p.on_video_enabled = hm_p_reason;
    p.on_video_disable_warning = hm_p0;
    p.on_video_disable_warning_lifted = hm_p0;
    prtc.on_rtc_stats_report = hm_p_rtc;
    s.on_connected = hm_s_stream;
    s.on_disconnected = hm_s0;
    s.on_reconnected = hm_s0;
    s.on_render_frame = hm_s_frame;
    s.on_video_disabled = hm_s_reason;
    s.on_video_enabled = hm_s_reason;
    s.on_audio_disabled = hm_s0;
    s.on_audio_enabled = hm_s0;
    s.on_video_data_received = hm_s0;
    s.on_video_disable_warning = hm_s0;
    s.on_caption_text = hm_s_caption;
    s.on_video_disable_warning_lifted = hm_s0;
    s.on_audio_stats = hm_s_astats;
    s.on_video_stats = hm_s_vstats;
    s.on_audio_level_updated = hm_s_level;
    s.on_error = hm_s_error;
    s.on_audio_data = hm_s_audio;
    srtc.on_rtc_stats_report = hm_s_rtc;
    c.init = hm_c0;
    c.destroy = hm_c0;
    c.start = hm_c0;
    c.stop = hm_c0;
    c.get_capture_settings = hm_c_settings;
    d.init = hm_d0;
    d.destroy = hm_d0;
    d.init_capturer = hm_d0;
    d.destroy_capturer = hm_d0;
    d.start_capturer = hm_d0;
    d.stop_capturer = hm_d0;
    d.is_capturer_initialized = hm_d0;
    d.is_capturer_started = hm_d0;
    d.get_estimated_capture_delay = hm_d_delay;
    d.get_capture_settings = hm_d_settings;
    d.init_renderer = hm_d0;
    d.destroy_renderer = hm_d0;
    d.start_renderer = hm_d0;
    d.stop_renderer = hm_d0;
    d.is_renderer_initialized = hm_d0;
    d.is_renderer_started = hm_d0;
    d.get_estimated_render_delay = hm_d_delay;
    d.get_render_settings = hm_d_settings;
    return (p.on_error != NULL) + (s.on_audio_data != NULL) + (c.get_capture_settings != NULL) +
           (d.get_render_settings != NULL) + (prtc.on_rtc_stats_report != NULL) +
           (srtc.on_rtc_stats_report != NULL) + (vt != NULL) + (at != NULL);
}

/* Media function types, spelled as the SDK declares them. Returns how
 * many (105). */
static int hm_function_types(void) {
    /* publisher.h */
    otc_publisher *(*m0)(const char *, const struct otc_video_capturer_callbacks *, const struct otc_publisher_callbacks *) =
        otc_publisher_new;
    otc_publisher_settings *(*m1)(void) = otc_publisher_settings_new;
    otc_status (*m2)(otc_publisher_settings *) = otc_publisher_settings_delete;
    otc_status (*m3)(otc_publisher_settings *, const char *) = otc_publisher_settings_set_name;
    otc_status (*m4)(otc_publisher_settings *, const struct otc_video_capturer_callbacks *) =
        otc_publisher_settings_set_video_capturer;
    otc_status (*m5)(otc_publisher_settings *, otc_bool) = otc_publisher_settings_set_audio_track;
    otc_status (*m6)(otc_publisher_settings *, otc_bool) = otc_publisher_settings_set_video_track;
    otc_status (*m7)(otc_publisher_settings *, otc_bool) = otc_publisher_settings_set_stereo;
    otc_status (*m8)(otc_publisher_settings *, otc_bool) = otc_publisher_settings_set_opus_dtx;
    otc_status (*m9)(otc_publisher_settings *, otc_bool) =
        otc_publisher_settings_set_auto_gain_control;
    otc_status (*m10)(otc_publisher_settings *, otc_bool) =
        otc_publisher_settings_set_noise_suppression;
    otc_status (*m11)(otc_publisher_settings *, otc_bool) =
        otc_publisher_settings_set_echo_cancellation;
    otc_status (*m12)(otc_publisher_settings *, const enum otc_camera_capture_resolution) =
        otc_publisher_settings_set_default_camera_capture_resolution;
    otc_status (*m13)(otc_publisher_settings *, const otc_bool) =
        otc_publisher_settings_set_scalable_screenshare;
    otc_publisher *(*m14)(const struct otc_publisher_callbacks *, otc_publisher_settings *) =
        otc_publisher_new_with_settings;
    otc_status (*m15)(otc_publisher *) = otc_publisher_delete;
    otc_stream *(*m16)(otc_publisher *) = otc_publisher_get_stream;
    otc_status (*m17)(otc_publisher *, otc_bool) = otc_publisher_set_publish_video;
    otc_status (*m18)(otc_publisher *, otc_bool) = otc_publisher_set_publish_audio;
    otc_bool (*m19)(const otc_publisher *) = otc_publisher_get_publish_video;
    otc_bool (*m20)(const otc_publisher *) = otc_publisher_get_publish_audio;
    otc_session *(*m21)(const otc_publisher *) = otc_publisher_get_session;
    otc_status (*m22)(otc_publisher *, uint32_t) = otc_publisher_set_max_audio_bitrate;
    otc_status (*m23)(otc_publisher *, const struct otc_publisher_rtc_stats_report_cb) =
        otc_publisher_set_rtc_stats_report_cb;
    otc_status (*m24)(const otc_publisher *) = otc_publisher_get_rtc_stats_report;
    otc_status (*m25)(otc_publisher *, otc_bool) = otc_publisher_set_audio_fallback_enabled;
    otc_bool (*m26)(const otc_publisher *) = otc_publisher_get_audio_fallback_enabled;
    const char *(*m27)(const otc_publisher *) = otc_publisher_get_publisher_id;
    otc_status (*m28)(struct otc_publisher *, enum otc_publisher_video_type) =
        otc_publisher_set_video_type;
    enum otc_publisher_video_type (*m29)(const struct otc_publisher *) =
        otc_publisher_get_video_type;
    void *(*m30)(const struct otc_publisher *) = otc_publisher_get_user_data;
    const char *(*m31)(const struct otc_publisher *) = otc_publisher_get_name;
    otc_status (*m32)(otc_publisher *, otc_bool) = otc_publisher_set_publish_captions;
    otc_bool (*m33)(const otc_publisher *) = otc_publisher_get_publish_captions;
    otc_status (*m34)(otc_publisher *, otc_video_transformer *[], size_t) =
        otc_publisher_set_video_transformers;
    otc_status (*m35)(otc_publisher *, otc_audio_transformer *[], size_t) =
        otc_publisher_set_audio_transformers;
    otc_status (*m36)(otc_publisher *, enum otc_video_bitrate_preset) =
        otc_publisher_set_video_bitrate_preset;
    enum otc_video_bitrate_preset (*m37)(const otc_publisher *) =
        otc_publisher_get_video_bitrate_preset;
    otc_status (*m38)(otc_publisher *, uint32_t) = otc_publisher_set_max_video_bitrate;
    uint32_t (*m39)(const otc_publisher *) = otc_publisher_get_max_video_bitrate;
    /* subscriber.h */
    otc_subscriber *(*m40)(const otc_stream *, const struct otc_subscriber_callbacks *) =
        otc_subscriber_new;
    otc_status (*m41)(otc_subscriber *) = otc_subscriber_delete;
    otc_stream *(*m42)(const otc_subscriber *) = otc_subscriber_get_stream;
    otc_status (*m43)(otc_subscriber *, otc_bool) = otc_subscriber_set_subscribe_to_video;
    otc_status (*m44)(otc_subscriber *, otc_bool) = otc_subscriber_set_subscribe_to_audio;
    otc_status (*m45)(otc_subscriber *, otc_bool) = otc_subscriber_set_subscribe_to_captions;
    otc_bool (*m46)(const otc_subscriber *) = otc_subscriber_get_subscribe_to_video;
    otc_bool (*m47)(const otc_subscriber *) = otc_subscriber_get_subscribe_to_audio;
    otc_bool (*m48)(const otc_subscriber *) = otc_subscriber_get_subscribe_to_captions;
    otc_session *(*m49)(const otc_subscriber *) = otc_subscriber_get_session;
    otc_status (*m50)(otc_subscriber *, uint32_t, uint32_t) =
        otc_subscriber_set_preferred_resolution;
    otc_status (*m51)(const otc_subscriber *, uint32_t *, uint32_t *) =
        otc_subscriber_get_preferred_resolution;
    otc_status (*m52)(otc_subscriber *, double) = otc_subscriber_set_audio_volume;
    otc_status (*m53)(const otc_subscriber *, double *) = otc_subscriber_get_audio_volume;
    otc_status (*m54)(otc_subscriber *, float) = otc_subscriber_set_preferred_framerate;
    otc_status (*m55)(const otc_subscriber *, float *) = otc_subscriber_get_preferred_framerate;
    const char *(*m56)(const otc_subscriber *) = otc_subscriber_get_subscriber_id;
    void *(*m57)(const otc_subscriber *) = otc_subscriber_get_user_data;
    otc_status (*m58)(const otc_subscriber *) = otc_subscriber_get_rtc_stats_report;
    otc_status (*m59)(otc_subscriber *, struct otc_subscriber_rtc_stats_report_cb) =
        otc_subscriber_set_rtc_stats_report_cb;
    /* stream.h */
    const char *(*m60)(const otc_stream *) = otc_stream_get_id;
    const char *(*m61)(const otc_stream *) = otc_stream_get_name;
    otc_bool (*m62)(const otc_stream *) = otc_stream_has_video_track;
    otc_bool (*m63)(const otc_stream *) = otc_stream_has_video;
    otc_bool (*m64)(const otc_stream *) = otc_stream_has_audio_track;
    otc_bool (*m65)(const otc_stream *) = otc_stream_has_audio;
    otc_bool (*m66)(const otc_stream *) = otc_stream_has_captions;
    otc_stream *(*m67)(const otc_stream *) = otc_stream_copy;
    otc_status (*m68)(otc_stream *) = otc_stream_delete;
    int (*m69)(const otc_stream *) = otc_stream_get_video_width;
    int (*m70)(const otc_stream *) = otc_stream_get_video_height;
    int64_t (*m71)(const otc_stream *) = otc_stream_get_creation_time;
    enum otc_stream_video_type (*m72)(const otc_stream *) = otc_stream_get_video_type;
    const otc_connection *(*m73)(const otc_stream *) = otc_stream_get_connection;
    /* audio_device.h */
    size_t (*m74)(int16_t *, size_t) = otc_audio_device_read_render_data;
    otc_status (*m75)(const int16_t *, size_t) = otc_audio_device_write_capture_data;
    otc_status (*m76)(const struct otc_audio_device_callbacks *) = otc_set_audio_device;
    /* audio_module_input_device.h */
    otc_audio_module_input_device_enumerator *(*m77)(void) =
        otc_audio_module_input_device_enumerator_new;
    int (*m78)(otc_audio_module_input_device_enumerator *) =
        otc_audio_module_input_device_enumerator_size;
    const char *(*m79)(otc_audio_module_input_device_enumerator *, int) =
        otc_audio_module_input_device_enumerator_get_device_id;
    const char *(*m80)(otc_audio_module_input_device_enumerator *, int) =
        otc_audio_module_input_device_enumerator_get_device_name;
    otc_status (*m81)(otc_audio_module_input_device_enumerator *) =
        otc_audio_module_input_device_enumerator_delete;
    otc_status (*m82)(const char *) = otc_audio_module_input_device_select;
    /* audio_module_output_device.h */
    otc_audio_module_output_device_enumerator *(*m83)(void) =
        otc_audio_module_output_device_enumerator_new;
    int (*m84)(otc_audio_module_output_device_enumerator *) =
        otc_audio_module_output_device_enumerator_size;
    const char *(*m85)(otc_audio_module_output_device_enumerator *, int) =
        otc_audio_module_output_device_enumerator_get_device_id;
    const char *(*m86)(otc_audio_module_output_device_enumerator *, int) =
        otc_audio_module_output_device_enumerator_get_device_name;
    otc_status (*m87)(otc_audio_module_output_device_enumerator *) =
        otc_audio_module_output_device_enumerator_delete;
    otc_status (*m88)(const char *) = otc_audio_module_output_device_select;
    /* video_capturer.h */
    otc_status (*m89)(const otc_video_capturer *, int, const otc_video_frame *) =
        otc_video_capturer_provide_frame;
    otc_status (*m90)(const otc_video_capturer *, enum otc_video_capturer_content_hint_type) =
        otc_video_capturer_set_content_hint;
    enum otc_video_capturer_content_hint_type (*m91)(const otc_video_capturer *) =
        otc_video_capturer_get_content_hint;
    /* media_utils.h */
    otc_status (*m92)(otc_media_utils_codecs **) = otc_media_utils_get_supported_codecs;
    otc_status (*m93)(otc_media_utils_codecs *) = otc_media_utils_codecs_delete;
    /* media_transformer.h */
    struct otc_video_transformer *(*m94)(enum otc_media_transformer_type, const char *, const char *, video_transform_callback, void *) =
        otc_video_transformer_create;
    struct otc_audio_transformer *(*m95)(enum otc_media_transformer_type, const char *, const char *, audio_transform_callback, void *) =
        otc_audio_transformer_create;
    otc_status (*m96)(struct otc_video_transformer *) = otc_video_transformer_delete;
    otc_status (*m97)(struct otc_audio_transformer *) = otc_audio_transformer_delete;
    /* session.h */
    otc_status (*m98)(otc_session *, otc_publisher *) = otc_session_publish;
    otc_status (*m99)(otc_session *, otc_publisher *) = otc_session_unpublish;
    otc_status (*m100)(otc_session *, otc_subscriber *) = otc_session_subscribe;
    otc_status (*m101)(otc_session *, otc_subscriber *) = otc_session_unsubscribe;
    otc_status (*m102)(otc_session *, const char **, const int) = otc_session_force_mute_all;
    otc_status (*m103)(otc_session *) = otc_session_disable_force_mute;
    otc_status (*m104)(const otc_session *, const char *) = otc_session_force_mute_stream;
    const void *all[] = {
        (const void *)&m0, (const void *)&m1, (const void *)&m2, (const void *)&m3,
        (const void *)&m4, (const void *)&m5, (const void *)&m6, (const void *)&m7,
        (const void *)&m8, (const void *)&m9, (const void *)&m10, (const void *)&m11,
        (const void *)&m12, (const void *)&m13, (const void *)&m14, (const void *)&m15,
        (const void *)&m16, (const void *)&m17, (const void *)&m18, (const void *)&m19,
        (const void *)&m20, (const void *)&m21, (const void *)&m22, (const void *)&m23,
        (const void *)&m24, (const void *)&m25, (const void *)&m26, (const void *)&m27,
        (const void *)&m28, (const void *)&m29, (const void *)&m30, (const void *)&m31,
        (const void *)&m32, (const void *)&m33, (const void *)&m34, (const void *)&m35,
        (const void *)&m36, (const void *)&m37, (const void *)&m38, (const void *)&m39,
        (const void *)&m40, (const void *)&m41, (const void *)&m42, (const void *)&m43,
        (const void *)&m44, (const void *)&m45, (const void *)&m46, (const void *)&m47,
        (const void *)&m48, (const void *)&m49, (const void *)&m50, (const void *)&m51,
        (const void *)&m52, (const void *)&m53, (const void *)&m54, (const void *)&m55,
        (const void *)&m56, (const void *)&m57, (const void *)&m58, (const void *)&m59,
        (const void *)&m60, (const void *)&m61, (const void *)&m62, (const void *)&m63,
        (const void *)&m64, (const void *)&m65, (const void *)&m66, (const void *)&m67,
        (const void *)&m68, (const void *)&m69, (const void *)&m70, (const void *)&m71,
        (const void *)&m72, (const void *)&m73, (const void *)&m74, (const void *)&m75,
        (const void *)&m76, (const void *)&m77, (const void *)&m78, (const void *)&m79,
        (const void *)&m80, (const void *)&m81, (const void *)&m82, (const void *)&m83,
        (const void *)&m84, (const void *)&m85, (const void *)&m86, (const void *)&m87,
        (const void *)&m88, (const void *)&m89, (const void *)&m90, (const void *)&m91,
        (const void *)&m92, (const void *)&m93, (const void *)&m94, (const void *)&m95,
        (const void *)&m96, (const void *)&m97, (const void *)&m98, (const void *)&m99,
        (const void *)&m100, (const void *)&m101, (const void *)&m102, (const void *)&m103,
        (const void *)&m104};
    return (int)(sizeof all / sizeof all[0]);
}

#endif
