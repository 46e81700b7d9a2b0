/*
 * Video frames from C (video_frame.h): no server, no session, no media
 * engine; frames are plain memory.
 *
 *   - frames from a buffer, from planes (copied) and wrapping the caller's
 *     memory (contiguous with a release callback, planar through callbacks,
 *     the I420/NV12/NV21 wrappers): every getter;
 *   - copies share, mutable copies do not; the release callback runs once,
 *     when the last frame using the memory is deleted;
 *   - conversions I420 <-> ARGB32 <-> BGRA32 (and NV12, RGB24) on known
 *     colours, and otc_video_frame_convert_inplace into caller planes;
 *   - metadata (up to OTC_VIDEO_FRAME_METADATA_MAX_SIZE bytes), timestamps;
 *   - bad input: NULL pointers, invalid formats and planes, zero, negative
 *     and huge sizes, short strides: the documented failure values, and a
 *     log line naming the function.
 *
 * Run by scripts/c-tests.sh (which passes a server it does not use), also
 * under valgrind.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <opentok/video_frame.h> /* the SDK's spelling works too */

/* ---- a logger that keeps the last message ---- */
static char log_last[1024];
static int log_count;

static void logger(const char *message) {
    log_count++;
    snprintf(log_last, sizeof log_last, "%s", message != NULL ? message : "(null)");
}

/* Whether the last failure was logged under the function's name. */
static int logged_by(const char *function) {
    return strstr(log_last, function) != NULL;
}

static int near(int a, int b, int tolerance) {
    return a - b <= tolerance && b - a <= tolerance;
}

#define CHECK_NEAR(actual, expected, tol, what)                                              \
    do {                                                                                     \
        int n_a_ = (int)(actual), n_e_ = (int)(expected);                                    \
        h_report(near(n_a_, n_e_, (tol)), __FILE__, __LINE__, (what), "got %d, expected %d", \
                 n_a_, n_e_);                                                                \
    } while (0)

/* BT.601 limited range (Y, U, V) of red and blue. */
enum { RED_Y = 82, RED_U = 90, RED_V = 240, BLUE_Y = 41, BLUE_U = 240, BLUE_V = 110 };

/* A 4 x 2 ARGB32 image (B,G,R,A bytes): left 2 x 2 red, right 2 x 2 blue. */
static void fill_red_blue(uint8_t *px) {
    int x, y;
    for (y = 0; y < 2; y++) {
        for (x = 0; x < 4; x++) {
            uint8_t *p = px + (y * 4 + x) * 4;
            p[0] = x < 2 ? 0 : 255; /* B */
            p[1] = 0;               /* G */
            p[2] = x < 2 ? 255 : 0; /* R */
            p[3] = 255;             /* A */
        }
    }
}

static void test_frame_from_buffer(void) {
    uint8_t px[4 * 2 * 4];
    otc_video_frame *f;
    const uint8_t *buf;
    fill_red_blue(px);
    f = otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 4, 2, px);
    CHECK(f != NULL, "otc_video_frame_new(ARGB32, 4x2)");
    if (f == NULL) return;
    CHECK_INT(otc_video_frame_get_width(f), 4, "width");
    CHECK_INT(otc_video_frame_get_height(f), 2, "height");
    CHECK_INT(otc_video_frame_get_format(f), OTC_VIDEO_FRAME_FORMAT_ARGB32, "format");
    CHECK_INT(otc_video_frame_get_number_of_planes(f), 1, "one plane");
    CHECK_INT(otc_video_frame_is_packed(f), OTC_TRUE, "ARGB32 is packed");
    CHECK_INT(otc_video_frame_is_contiguous(f), OTC_TRUE, "and contiguous");
    buf = otc_video_frame_get_buffer(f);
    CHECK(buf != NULL && buf != px && memcmp(buf, px, sizeof px) == 0,
          "get_buffer: a copy of the pixels");
    CHECK_INT(otc_video_frame_get_buffer_size(f), sizeof px, "get_buffer_size");
    CHECK(otc_video_frame_get_plane_binary_data(f, OTC_VIDEO_FRAME_PLANE_PACKED) == buf,
          "the packed plane is the buffer");
    CHECK_INT(otc_video_frame_get_plane_stride(f, OTC_VIDEO_FRAME_PLANE_PACKED), 16, "stride");
    CHECK_INT(otc_video_frame_get_plane_size(f, OTC_VIDEO_FRAME_PLANE_PACKED), 32, "plane size");
    CHECK_INT(otc_video_frame_get_plane_width(f, OTC_VIDEO_FRAME_PLANE_PACKED), 4, "plane width");
    CHECK_INT(otc_video_frame_get_plane_height(f, OTC_VIDEO_FRAME_PLANE_PACKED), 2,
              "plane height");
    CHECK(otc_video_frame_get_native_handle(f) == NULL, "no native handle");
    CHECK_INT(otc_video_frame_get_timestamp(f), 0, "timestamp starts at 0");
    otc_video_frame_set_timestamp(f, 1700000000123LL);
    CHECK_INT(otc_video_frame_get_timestamp(f), 1700000000123LL, "timestamp set");
    otc_video_frame_set_format(f, OTC_VIDEO_FRAME_FORMAT_BGRA32);
    CHECK_INT(otc_video_frame_get_format(f), OTC_VIDEO_FRAME_FORMAT_BGRA32,
              "set_format relabels ARGB32 as BGRA32");
    otc_video_frame_set_format(f, OTC_VIDEO_FRAME_FORMAT_YUV420P);
    CHECK_INT(otc_video_frame_get_format(f), OTC_VIDEO_FRAME_FORMAT_BGRA32,
              "set_format to a different layout is refused");
    CHECK(logged_by("otc_video_frame_set_format"), "and logged");
    CHECK_INT(otc_video_frame_delete(f), OTC_SUCCESS, "delete");
}

static void test_conversions(void) {
    uint8_t px[4 * 2 * 4];
    otc_video_frame *argb, *i420, *back, *bgra, *bgra_back, *rgb24, *nv12;
    const uint8_t *y, *u, *v, *p;
    int i, ok;
    fill_red_blue(px);
    argb = otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 4, 2, px);
    otc_video_frame_set_timestamp(argb, 42);
    i420 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, argb);
    CHECK(i420 != NULL, "convert ARGB32 -> YUV420P");
    if (argb == NULL || i420 == NULL) return;
    CHECK_INT(otc_video_frame_get_format(i420), OTC_VIDEO_FRAME_FORMAT_YUV420P, "format");
    CHECK_INT(otc_video_frame_get_number_of_planes(i420), 3, "three planes");
    CHECK_INT(otc_video_frame_is_packed(i420), OTC_FALSE, "I420 is not packed");
    CHECK_INT(otc_video_frame_is_contiguous(i420), OTC_TRUE, "a conversion is contiguous");
    CHECK_INT(otc_video_frame_get_buffer_size(i420), 4 * 2 + 2 * 2, "I420 4x2 is 12 bytes");
    CHECK_INT(otc_video_frame_get_timestamp(i420), 42, "the timestamp carries over");
    CHECK_INT(otc_video_frame_get_plane_width(i420, OTC_VIDEO_FRAME_PLANE_U), 2, "U width");
    CHECK_INT(otc_video_frame_get_plane_height(i420, OTC_VIDEO_FRAME_PLANE_V), 1, "V height");
    CHECK_INT(otc_video_frame_get_plane_stride(i420, OTC_VIDEO_FRAME_PLANE_Y), 4, "Y stride");
    y = otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_Y);
    u = otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_U);
    v = otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_V);
    CHECK(y != NULL && u != NULL && v != NULL, "three plane pointers");
    if (y == NULL || u == NULL || v == NULL) return;
    CHECK(u == y + 8 && v == u + 2, "planes one after another");
    CHECK_NEAR(y[0], RED_Y, 2, "Y of red");
    CHECK_NEAR(y[5], RED_Y, 2, "Y of red, second row");
    CHECK_NEAR(y[3], BLUE_Y, 2, "Y of blue");
    CHECK_NEAR(u[0], RED_U, 2, "U of red");
    CHECK_NEAR(v[0], RED_V, 2, "V of red");
    CHECK_NEAR(u[1], BLUE_U, 2, "U of blue");
    CHECK_NEAR(v[1], BLUE_V, 2, "V of blue");

    back = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_ARGB32, i420);
    CHECK(back != NULL, "convert YUV420P -> ARGB32");
    p = back != NULL ? otc_video_frame_get_buffer(back) : NULL;
    ok = p != NULL;
    for (i = 0; ok && i < (int)sizeof px; i++) ok = near(p[i], px[i], 3);
    CHECK(ok, "ARGB32 -> YUV420P -> ARGB32 within 3");

    bgra = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_BGRA32, i420);
    p = bgra != NULL ? otc_video_frame_get_buffer(bgra) : NULL;
    CHECK(p != NULL, "convert YUV420P -> BGRA32");
    if (p != NULL) {
        /* BGRA32 is A,R,G,B in memory. */
        CHECK_INT(p[0], 255, "BGRA32 red: A first");
        CHECK_NEAR(p[1], 255, 3, "BGRA32 red: R");
        CHECK_NEAR(p[3], 0, 3, "BGRA32 red: B last");
        CHECK_NEAR(p[2 * 4 + 3], 255, 3, "BGRA32 blue: B last");
    }
    bgra_back = bgra != NULL ? otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_ARGB32, bgra) : NULL;
    p = bgra_back != NULL ? otc_video_frame_get_buffer(bgra_back) : NULL;
    ok = p != NULL;
    for (i = 0; ok && i < (int)sizeof px; i++) ok = near(p[i], px[i], 3);
    CHECK(ok, "YUV420P -> BGRA32 -> ARGB32 within 3");
    otc_video_frame_delete(bgra);
    /* ARGB32 -> BGRA32 directly only reorders bytes. */
    bgra = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_BGRA32, argb);
    p = bgra != NULL ? otc_video_frame_get_buffer(bgra) : NULL;
    CHECK(p != NULL && p[0] == px[3] && p[1] == px[2] && p[2] == px[1] && p[3] == px[0],
          "ARGB32 -> BGRA32 reverses each pixel's bytes");

    rgb24 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_RGB24, argb);
    CHECK(rgb24 != NULL && otc_video_frame_get_buffer_size(rgb24) == 4 * 2 * 3,
          "convert ARGB32 -> RGB24 (3 bytes a pixel)");
    nv12 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_NV12, argb);
    p = nv12 != NULL ? otc_video_frame_get_plane_binary_data(nv12, OTC_VIDEO_FRAME_PLANE_UV_INTERLEAVED)
                     : NULL;
    CHECK(p != NULL && near(p[0], RED_U, 2) && near(p[1], RED_V, 2),
          "convert ARGB32 -> NV12: U,V pairs");
    CHECK_INT(nv12 != NULL ? otc_video_frame_get_number_of_planes(nv12) : 0, 2, "NV12: 2 planes");

    otc_video_frame_delete(nv12);
    otc_video_frame_delete(rgb24);
    otc_video_frame_delete(bgra);
    otc_video_frame_delete(bgra_back);
    otc_video_frame_delete(back);
    otc_video_frame_delete(i420);
    otc_video_frame_delete(argb);
}

static void test_planes_and_wrappers(void) {
    /* A 3 x 3 I420 frame with padded strides: Y 3 rows of stride 8, U and
     * V 2 x 2 with stride 4. */
    uint8_t yp[3 * 8], up[4 + 2], vp[4 + 2], uv[2 * 4 + 4];
    const uint8_t *planes[3];
    int strides[3];
    otc_video_frame *f, *w, *c, *nv;
    const uint8_t *buf;
    int i;
    for (i = 0; i < (int)sizeof yp; i++) yp[i] = (uint8_t)i;
    for (i = 0; i < (int)sizeof up; i++) up[i] = (uint8_t)(100 + i);
    for (i = 0; i < (int)sizeof vp; i++) vp[i] = (uint8_t)(200 + i);

    f = otc_video_frame_new_I420(3, 3, yp, 8, up, 4, vp, 4);
    CHECK(f != NULL, "otc_video_frame_new_I420 with padded strides");
    if (f != NULL) {
        static const uint8_t tight[] = {0, 1, 2, 8, 9, 10, 16, 17, 18,
                                        100, 101, 104, 105, 200, 201, 204, 205};
        buf = otc_video_frame_get_buffer(f);
        CHECK(buf != NULL && otc_video_frame_get_buffer_size(f) == sizeof tight &&
                  memcmp(buf, tight, sizeof tight) == 0,
              "copied and repacked to the tightest strides");
        CHECK_INT(otc_video_frame_get_plane_stride(f, OTC_VIDEO_FRAME_PLANE_U), 2, "U stride");
        CHECK_INT(otc_video_frame_get_plane_size(f, OTC_VIDEO_FRAME_PLANE_V), 4, "V size");
        otc_video_frame_delete(f);
    }

    w = otc_video_frame_new_I420_wrapper(3, 3, yp, 8, up, 4, vp, 4);
    CHECK(w != NULL, "otc_video_frame_new_I420_wrapper");
    if (w != NULL) {
        CHECK(otc_video_frame_get_plane_binary_data(w, OTC_VIDEO_FRAME_PLANE_Y) == yp &&
                  otc_video_frame_get_plane_binary_data(w, OTC_VIDEO_FRAME_PLANE_V) == vp,
              "the wrapper points at the caller's planes");
        CHECK_INT(otc_video_frame_get_plane_stride(w, OTC_VIDEO_FRAME_PLANE_Y), 8, "its stride");
        CHECK_INT(otc_video_frame_get_plane_size(w, OTC_VIDEO_FRAME_PLANE_Y), 24,
                  "plane size: stride x rows");
        CHECK_INT(otc_video_frame_is_contiguous(w), OTC_FALSE, "separate planes: not contiguous");
        CHECK(otc_video_frame_get_buffer(w) == NULL, "so no single buffer");
        CHECK(logged_by("otc_video_frame_get_buffer"), "and that is logged");
        CHECK_INT(otc_video_frame_get_buffer_size(w), 0, "buffer size 0");
        c = otc_video_frame_copy(w);
        CHECK(c != NULL && otc_video_frame_get_plane_binary_data(c, OTC_VIDEO_FRAME_PLANE_Y) != yp,
              "a copy of a plain wrapper has pixels of its own");
        CHECK_INT(c != NULL ? otc_video_frame_is_contiguous(c) : -1, OTC_TRUE, "contiguous");
        otc_video_frame_delete(w);
        buf = c != NULL ? otc_video_frame_get_plane_binary_data(c, OTC_VIDEO_FRAME_PLANE_Y) : NULL;
        CHECK(buf != NULL && buf[3] == 8, "and outlives the wrapper");
        otc_video_frame_delete(c);
    }

    /* NV12 / NV21 wrappers: 4 x 2, chroma one row of 2 pairs. */
    for (i = 0; i < (int)sizeof uv; i++) uv[i] = (uint8_t)(50 + i);
    nv = otc_video_frame_new_NV12_wrapper(4, 2, yp, 4, uv, 4);
    CHECK(nv != NULL, "otc_video_frame_new_NV12_wrapper");
    if (nv != NULL) {
        otc_video_frame *i420 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, nv);
        const uint8_t *u = i420 ? otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_U) : NULL;
        const uint8_t *v = i420 ? otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_V) : NULL;
        CHECK(u != NULL && v != NULL && u[0] == 50 && v[0] == 51 && u[1] == 52 && v[1] == 53,
              "NV12 -> I420 splits U,V pairs");
        CHECK_INT(otc_video_frame_get_plane_width(nv, OTC_VIDEO_FRAME_PLANE_UV_INTERLEAVED), 2,
                  "UV plane width in pairs");
        CHECK(otc_video_frame_get_plane_binary_data(nv, OTC_VIDEO_FRAME_PLANE_V) == NULL,
              "NV12 has no third plane");
        otc_video_frame_delete(i420);
        otc_video_frame_delete(nv);
    }
    nv = otc_video_frame_new_NV21_wrapper(4, 2, yp, 4, uv, 4);
    CHECK(nv != NULL && otc_video_frame_get_format(nv) == OTC_VIDEO_FRAME_FORMAT_NV21,
          "otc_video_frame_new_NV21_wrapper");
    if (nv != NULL) {
        otc_video_frame *i420 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, nv);
        const uint8_t *u = i420 ? otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_U) : NULL;
        CHECK(u != NULL && u[0] == 51, "NV21 -> I420: V,U pairs");
        otc_video_frame_delete(i420);
        otc_video_frame_delete(nv);
    }

    /* From planes, copied; and straight to I420 from NV12 planes. */
    planes[0] = yp;
    planes[1] = uv;
    strides[0] = 4;
    strides[1] = 4;
    f = otc_video_frame_new_from_planes(OTC_VIDEO_FRAME_FORMAT_NV12, 4, 2, planes, strides);
    CHECK(f != NULL && otc_video_frame_get_plane_binary_data(f, OTC_VIDEO_FRAME_PLANE_Y) != yp,
          "otc_video_frame_new_from_planes copies");
    otc_video_frame_delete(f);
    f = otc_video_frame_new_I420_from_planes_with_format(OTC_VIDEO_FRAME_FORMAT_NV12, 4, 2, planes,
                                                         strides);
    CHECK(f != NULL && otc_video_frame_get_format(f) == OTC_VIDEO_FRAME_FORMAT_YUV420P,
          "otc_video_frame_new_I420_from_planes_with_format(NV12)");
    if (f != NULL) {
        const uint8_t *v = otc_video_frame_get_plane_binary_data(f, OTC_VIDEO_FRAME_PLANE_V);
        CHECK(v != NULL && v[0] == 51 && v[1] == 53, "its V plane");
        otc_video_frame_delete(f);
    }
}

/* ---- lent memory with release callbacks ---- */
static int released;
static const uint8_t *released_buffer;
static void *released_arg;

static void on_release(const uint8_t *buffer, void *arg) {
    released++;
    released_buffer = buffer;
    released_arg = arg;
}

struct planar {
    uint8_t y[4 * 4], u[2 * 2], v[2 * 2];
    int gets, releases;
};

static const uint8_t *planar_get(void *user_data, enum otc_video_frame_plane plane) {
    struct planar *p = user_data;
    p->gets++;
    return plane == OTC_VIDEO_FRAME_PLANE_Y ? p->y : plane == OTC_VIDEO_FRAME_PLANE_U ? p->u : p->v;
}

static int planar_stride(void *user_data, enum otc_video_frame_plane plane) {
    (void)user_data;
    return plane == OTC_VIDEO_FRAME_PLANE_Y ? 4 : 2;
}

static void planar_release(void *user_data) {
    ((struct planar *)user_data)->releases++;
}

static const uint8_t *planar_get_null(void *user_data, enum otc_video_frame_plane plane) {
    (void)user_data;
    (void)plane;
    return NULL;
}

static void test_lent_memory(void) {
    uint8_t px[2 * 2 * 4];
    int tag = 7;
    otc_video_frame *w, *c, *m;
    struct planar pl;
    struct otc_video_frame_planar_memory_callbacks cb;
    memset(px, 9, sizeof px);

    released = 0;
    w = otc_video_frame_new_contiguous_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2, OTC_TRUE,
                                                      px, sizeof px, on_release, &tag);
    CHECK(w != NULL && otc_video_frame_get_buffer(w) == px,
          "contiguous memory wrapper points at the buffer");
    c = w != NULL ? otc_video_frame_copy(w) : NULL;
    CHECK(c != NULL && otc_video_frame_get_buffer(c) == px, "shallow copyable: the copy shares it");
    m = w != NULL ? otc_video_frame_mutable_copy(w) : NULL;
    CHECK(m != NULL && otc_video_frame_get_buffer(m) != px, "a mutable copy does not");
    otc_video_frame_delete(w);
    CHECK_INT(released, 0, "not released while a copy shares the buffer");
    otc_video_frame_delete(c);
    CHECK_INT(released, 1, "released once, with the last shallow copy");
    CHECK(released_buffer == px && released_arg == &tag, "with the buffer and the argument");
    if (m != NULL) {
        /* A mutable copy's pixels may be written. */
        uint8_t *mp = (uint8_t *)otc_video_frame_get_plane_binary_data(m, OTC_VIDEO_FRAME_PLANE_PACKED);
        mp[0] = 1;
        CHECK(px[0] == 9 && otc_video_frame_get_buffer(m)[0] == 1, "writing a mutable copy");
    }
    otc_video_frame_delete(m);
    CHECK_INT(released, 1, "the mutable copy never held the buffer");

    released = 0;
    w = otc_video_frame_new_contiguous_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2, OTC_FALSE,
                                                      px, sizeof px, on_release, NULL);
    c = w != NULL ? otc_video_frame_copy(w) : NULL;
    CHECK(c != NULL && otc_video_frame_get_buffer(c) != px,
          "not shallow copyable: a copy has its own pixels");
    otc_video_frame_delete(w);
    CHECK_INT(released, 1, "released with the wrapper itself");
    otc_video_frame_delete(c);
    CHECK_INT(released, 1, "and only once");

    released = 0;
    CHECK(otc_video_frame_new_contiguous_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2,
                                                        OTC_TRUE, px, sizeof px - 1, on_release,
                                                        NULL) == NULL,
          "a buffer smaller than the frame is refused");
    CHECK(logged_by("otc_video_frame_new_contiguous_memory_wrapper"), "and logged");
    CHECK_INT(released, 0, "a refused wrapper never calls its release callback");

    memset(&pl, 0, sizeof pl);
    pl.u[0] = 77;
    memset(&cb, 0, sizeof cb);
    cb.get_plane = planar_get;
    cb.get_plane_stride = planar_stride;
    cb.release = planar_release;
    cb.user_data = &pl;
    w = otc_video_frame_new_planar_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_YUV420P, 4, 4, OTC_TRUE,
                                                  &cb);
    CHECK(w != NULL, "planar memory wrapper");
    CHECK_INT(pl.gets, 3, "get_plane called for each plane");
    CHECK(w != NULL && otc_video_frame_get_plane_binary_data(w, OTC_VIDEO_FRAME_PLANE_U) == pl.u,
          "its U plane is the caller's");
    c = w != NULL ? otc_video_frame_copy(w) : NULL;
    otc_video_frame_delete(w);
    CHECK_INT(pl.releases, 0, "shared by a copy: not yet released");
    CHECK(c != NULL && otc_video_frame_get_plane_binary_data(c, OTC_VIDEO_FRAME_PLANE_U)[0] == 77,
          "the copy reads the caller's plane");
    otc_video_frame_delete(c);
    CHECK_INT(pl.releases, 1, "release called once");

    cb.get_plane = planar_get_null;
    pl.releases = 0;
    CHECK(otc_video_frame_new_planar_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_YUV420P, 4, 4, OTC_TRUE,
                                                    &cb) == NULL,
          "get_plane returning NULL is refused");
    CHECK_INT(pl.releases, 0, "without calling release");
    cb.get_plane = NULL;
    CHECK(otc_video_frame_new_planar_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_YUV420P, 4, 4, OTC_TRUE,
                                                    &cb) == NULL,
          "a NULL get_plane is refused");
    CHECK(otc_video_frame_new_planar_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_YUV420P, 4, 4, OTC_TRUE,
                                                    NULL) == NULL,
          "NULL callbacks are refused");
}

static void test_copies_and_metadata(void) {
    uint8_t px[2 * 2 * 4], meta[OTC_VIDEO_FRAME_METADATA_MAX_SIZE + 1];
    otc_video_frame *f, *c, *conv;
    const uint8_t *got;
    size_t size = 99;
    int i;
    memset(px, 3, sizeof px);
    for (i = 0; i < (int)sizeof meta; i++) meta[i] = (uint8_t)(i + 1);
    CHECK_INT(OTC_VIDEO_FRAME_METADATA_MAX_SIZE, 32, "OTC_VIDEO_FRAME_METADATA_MAX_SIZE is 32");

    f = otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ABGR32, 2, 2, px);
    if (f == NULL) {
        CHECK(0, "otc_video_frame_new(ABGR32)");
        return;
    }
    got = otc_video_frame_get_metadata(f, &size);
    CHECK(got == NULL && size == 0, "no metadata at first");
    CHECK_INT(otc_video_frame_set_metadata(f, meta, 32), OTC_SUCCESS, "set 32 bytes of metadata");
    got = otc_video_frame_get_metadata(f, &size);
    CHECK(got != NULL && size == 32 && memcmp(got, meta, 32) == 0, "get them back");
    CHECK_INT(otc_video_frame_set_metadata(f, meta, 33), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "33 bytes are refused");
    CHECK(logged_by("otc_video_frame_set_metadata"), "and logged");
    got = otc_video_frame_get_metadata(f, &size);
    CHECK(got != NULL && size == 32 && memcmp(got, meta, 32) == 0, "the old metadata stays");
    CHECK_INT(otc_video_frame_set_metadata(f, NULL, 4), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "NULL data with a size is refused");
    CHECK(otc_video_frame_get_metadata(f, NULL) == NULL, "get_metadata with a NULL size: NULL");

    c = otc_video_frame_copy(f);
    CHECK(c != NULL && otc_video_frame_get_buffer(c) == otc_video_frame_get_buffer(f),
          "a copy of a library-owned frame shares its pixels");
    got = c != NULL ? otc_video_frame_get_metadata(c, &size) : NULL;
    CHECK(got != NULL && size == 32 && got[31] == 32, "and has the metadata");
    conv = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, f);
    got = conv != NULL ? otc_video_frame_get_metadata(conv, &size) : NULL;
    CHECK(got != NULL && size == 32, "a conversion keeps the metadata");
    CHECK_INT(otc_video_frame_set_metadata(f, NULL, 0), OTC_SUCCESS, "size 0 clears");
    got = otc_video_frame_get_metadata(f, &size);
    CHECK(got == NULL && size == 0, "cleared");
    got = c != NULL ? otc_video_frame_get_metadata(c, &size) : NULL;
    CHECK(got != NULL && size == 32, "the copy's own metadata stays");
    otc_video_frame_delete(conv);
    otc_video_frame_delete(c);
    /* The copy is gone; the frame still reads fine. */
    CHECK(otc_video_frame_get_buffer(f)[0] == 3, "the original outlives its copy");
    otc_video_frame_delete(f);
}

static void test_encoded_and_inplace(void) {
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9};
    uint8_t px[4 * 2 * 4], y[4 * 2 + 4], u[2 + 2], v[2 + 2];
    uint8_t *planes[3];
    int strides[3];
    otc_video_frame *f, *argb, *i420;
    fill_red_blue(px);

    f = otc_video_frame_new_MJPEG(640, 480, jpeg, sizeof jpeg);
    CHECK(f != NULL, "otc_video_frame_new_MJPEG");
    if (f != NULL) {
        CHECK_INT(otc_video_frame_get_format(f), OTC_VIDEO_FRAME_FORMAT_MJPEG, "format MJPEG");
        CHECK(otc_video_frame_get_buffer_size(f) == sizeof jpeg &&
                  memcmp(otc_video_frame_get_buffer(f), jpeg, sizeof jpeg) == 0,
              "its bytes");
        CHECK_INT(otc_video_frame_get_width(f), 640, "its width");
        CHECK(otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, f) == NULL,
              "MJPEG is not converted");
        CHECK(logged_by("otc_video_frame_convert"), "and that is logged");
        otc_video_frame_delete(f);
    }
    f = otc_video_frame_new_compressed(320, 240, jpeg, sizeof jpeg);
    CHECK(f != NULL && otc_video_frame_get_format(f) == OTC_VIDEO_FRAME_FORMAT_COMPRESSED &&
              otc_video_frame_get_plane_size(f, OTC_VIDEO_FRAME_PLANE_PACKED) == sizeof jpeg,
          "otc_video_frame_new_compressed");
    otc_video_frame_delete(f);
    CHECK(otc_video_frame_new_MJPEG(640, 480, jpeg, 0) == NULL, "MJPEG of 0 bytes is refused");

    argb = otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 4, 2, px);
    i420 = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_YUV420P, argb);
    memset(y, 0xee, sizeof y);
    memset(u, 0xee, sizeof u);
    memset(v, 0xee, sizeof v);
    planes[0] = y;
    planes[1] = u;
    planes[2] = v;
    strides[0] = 6; /* padded */
    strides[1] = 2;
    strides[2] = 2;
    CHECK_INT(otc_video_frame_convert_inplace(OTC_VIDEO_FRAME_FORMAT_YUV420P, planes, strides, argb),
              OTC_SUCCESS, "otc_video_frame_convert_inplace into caller planes");
    if (i420 != NULL) {
        const uint8_t *ry = otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_Y);
        const uint8_t *ru = otc_video_frame_get_plane_binary_data(i420, OTC_VIDEO_FRAME_PLANE_U);
        CHECK(memcmp(y, ry, 4) == 0 && memcmp(y + 6, ry + 4, 4) == 0 && y[4] == 0xee,
              "Y rows at the caller's stride, padding untouched");
        CHECK(memcmp(u, ru, 2) == 0, "U plane");
    }
    strides[0] = 3;
    memset(y, 0xee, sizeof y);
    CHECK_INT(otc_video_frame_convert_inplace(OTC_VIDEO_FRAME_FORMAT_YUV420P, planes, strides, argb),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "a stride below the row is refused");
    CHECK(y[0] == 0xee, "and nothing is written");
    CHECK_INT(otc_video_frame_convert_inplace(OTC_VIDEO_FRAME_FORMAT_YUV420P, NULL, strides, argb),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "NULL planes are refused");
    CHECK_INT(otc_video_frame_convert_inplace(OTC_VIDEO_FRAME_FORMAT_MJPEG, planes, strides, argb),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "converting into MJPEG is refused");
    otc_video_frame_delete(i420);
    otc_video_frame_delete(argb);
}

static void test_bad_input(void) {
    uint8_t px[64];
    const uint8_t *planes[3];
    int strides[3] = {4, 2, 2};
    otc_video_frame *f;
    size_t size = 99;
    memset(px, 0, sizeof px);
    planes[0] = px;
    planes[1] = NULL;
    planes[2] = px;

    log_last[0] = '\0';
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_UNKNOWN, 2, 2, px) == NULL,
          "new(UNKNOWN) is NULL");
    CHECK(logged_by("otc_video_frame_new"), "and the log names otc_video_frame_new");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_MAX, 2, 2, px) == NULL, "new(MAX) is NULL");
    CHECK(otc_video_frame_new((enum otc_video_frame_format)99, 2, 2, px) == NULL,
          "new with a value outside the enum is NULL");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_MJPEG, 2, 2, px) == NULL,
          "new(MJPEG) without a size is NULL");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2, NULL) == NULL,
          "new with a NULL buffer is NULL");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 0, 2, px) == NULL, "width 0");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 0, px) == NULL, "height 0");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, -2, 2, px) == NULL, "width -2");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 16385, 1, px) == NULL,
          "width 16385");
    CHECK(otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 1, 0x7fffffff, px) == NULL,
          "a huge height");
    CHECK(otc_video_frame_new_I420(2, 2, px, 1, px, 1, px, 1) == NULL,
          "new_I420 with a stride below the row");
    CHECK(otc_video_frame_new_I420(2, 2, px, 2, NULL, 1, px, 1) == NULL,
          "new_I420 with a NULL plane");
    CHECK(otc_video_frame_new_I420(2, 2, px, -2, px, 1, px, 1) == NULL,
          "new_I420 with a negative stride");
    CHECK(otc_video_frame_new_I420_wrapper(0, 2, px, 2, px, 1, px, 1) == NULL,
          "new_I420_wrapper of width 0");
    CHECK(otc_video_frame_new_NV12_wrapper(2, 2, px, 2, NULL, 2) == NULL,
          "new_NV12_wrapper with a NULL plane");
    CHECK(otc_video_frame_new_NV21_wrapper(2, 2, px, 2, px, 1) == NULL,
          "new_NV21_wrapper with a short UV stride");
    CHECK(otc_video_frame_new_from_planes(OTC_VIDEO_FRAME_FORMAT_YUV420P, 2, 2, planes, strides) ==
              NULL,
          "new_from_planes with a NULL plane");
    CHECK(otc_video_frame_new_from_planes(OTC_VIDEO_FRAME_FORMAT_YUV420P, 2, 2, NULL, strides) ==
              NULL,
          "new_from_planes with NULL planes");
    CHECK(otc_video_frame_new_from_planes(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2, planes, NULL) ==
              NULL,
          "new_from_planes with NULL strides");
    CHECK(otc_video_frame_new_from_planes(OTC_VIDEO_FRAME_FORMAT_COMPRESSED, 2, 2, planes,
                                          strides) == NULL,
          "new_from_planes(COMPRESSED)");
    CHECK(otc_video_frame_new_I420_from_planes_with_format((enum otc_video_frame_format)-1, 2, 2,
                                                           planes, strides) == NULL,
          "new_I420_from_planes_with_format(-1)");
    CHECK(otc_video_frame_new_MJPEG(2, 2, NULL, 4) == NULL, "new_MJPEG(NULL)");
    CHECK(otc_video_frame_new_compressed(0, 2, px, 4) == NULL, "new_compressed of width 0");
    CHECK(otc_video_frame_new_contiguous_memory_wrapper(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2,
                                                        OTC_TRUE, NULL, 16, NULL, NULL) == NULL,
          "contiguous wrapper of NULL");

    /* NULL frames. */
    CHECK_INT(otc_video_frame_delete(NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "delete(NULL) is OTC_SESSION_NULL_OR_INVALID_PARAMETER");
    CHECK(logged_by("otc_video_frame_delete"), "and logged under its name");
    CHECK(otc_video_frame_copy(NULL) == NULL, "copy(NULL)");
    CHECK(otc_video_frame_mutable_copy(NULL) == NULL, "mutable_copy(NULL)");
    CHECK(otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_ARGB32, NULL) == NULL, "convert(NULL)");
    CHECK(otc_video_frame_get_buffer(NULL) == NULL, "get_buffer(NULL)");
    CHECK_INT(otc_video_frame_get_buffer_size(NULL), 0, "get_buffer_size(NULL)");
    CHECK_INT(otc_video_frame_get_width(NULL), 0, "get_width(NULL)");
    CHECK_INT(otc_video_frame_get_height(NULL), 0, "get_height(NULL)");
    CHECK_INT(otc_video_frame_get_timestamp(NULL), 0, "get_timestamp(NULL)");
    CHECK_INT(otc_video_frame_get_number_of_planes(NULL), 0, "get_number_of_planes(NULL)");
    CHECK_INT(otc_video_frame_get_format(NULL), OTC_VIDEO_FRAME_FORMAT_UNKNOWN,
              "get_format(NULL) is UNKNOWN");
    CHECK_INT(otc_video_frame_is_packed(NULL), OTC_FALSE, "is_packed(NULL)");
    CHECK_INT(otc_video_frame_is_contiguous(NULL), OTC_FALSE, "is_contiguous(NULL)");
    CHECK(otc_video_frame_get_plane_binary_data(NULL, OTC_VIDEO_FRAME_PLANE_Y) == NULL,
          "get_plane_binary_data(NULL)");
    CHECK_INT(otc_video_frame_get_plane_size(NULL, OTC_VIDEO_FRAME_PLANE_Y), 0, "plane_size(NULL)");
    CHECK_INT(otc_video_frame_get_plane_stride(NULL, OTC_VIDEO_FRAME_PLANE_Y), 0,
              "plane_stride(NULL)");
    CHECK_INT(otc_video_frame_get_plane_width(NULL, OTC_VIDEO_FRAME_PLANE_Y), 0,
              "plane_width(NULL)");
    CHECK_INT(otc_video_frame_get_plane_height(NULL, OTC_VIDEO_FRAME_PLANE_Y), 0,
              "plane_height(NULL)");
    CHECK(otc_video_frame_get_native_handle(NULL) == NULL, "get_native_handle(NULL)");
    CHECK_INT(otc_video_frame_set_metadata(NULL, px, 1), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "set_metadata(NULL)");
    CHECK(otc_video_frame_get_metadata(NULL, &size) == NULL && size == 0,
          "get_metadata(NULL) is NULL with size 0");
    log_count = 0;
    otc_video_frame_set_timestamp(NULL, 5);
    otc_video_frame_set_format(NULL, OTC_VIDEO_FRAME_FORMAT_ARGB32);
    CHECK_INT(log_count, 2, "set_timestamp(NULL) and set_format(NULL) only log");

    /* Planes a format lacks, and values outside the plane enum. */
    f = otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_ARGB32, 2, 2, px);
    if (f != NULL) {
        CHECK(otc_video_frame_get_plane_binary_data(f, OTC_VIDEO_FRAME_PLANE_U) == NULL,
              "an ARGB32 frame has no U plane");
        CHECK(logged_by("otc_video_frame_get_plane_binary_data"), "logged under its name");
        CHECK_INT(otc_video_frame_get_plane_stride(f, OTC_VIDEO_FRAME_PLANE_V), 0,
                  "nor a V plane stride");
        CHECK(otc_video_frame_get_plane_binary_data(f, (enum otc_video_frame_plane)3) == NULL,
              "plane 3 does not exist");
        CHECK(otc_video_frame_get_plane_binary_data(f, (enum otc_video_frame_plane)-1) == NULL,
              "plane -1 does not exist");
        CHECK(otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_COMPRESSED, f) == NULL,
              "convert to COMPRESSED");
        CHECK(otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_UNKNOWN, f) == NULL,
              "convert to UNKNOWN");
        CHECK(otc_video_frame_convert((enum otc_video_frame_format)1000, f) == NULL,
              "convert to a value outside the enum");
        otc_video_frame_set_format(f, (enum otc_video_frame_format)77);
        CHECK_INT(otc_video_frame_get_format(f), OTC_VIDEO_FRAME_FORMAT_ARGB32,
                  "set_format with an invalid value changes nothing");
        otc_video_frame_delete(f);
    }
}

int main(void) {
    otc_log_set_logger_callback(logger);
    otc_log_enable(OTC_LOG_LEVEL_ERROR);

    test_frame_from_buffer();
    test_conversions();
    test_planes_and_wrappers();
    test_lent_memory();
    test_copies_and_metadata();
    test_encoded_and_inplace();
    test_bad_input();

    otc_log_set_logger_callback(NULL);
    return finish();
}
