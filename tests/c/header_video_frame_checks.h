/*
 * Compile-time checks of the video frame part of <opentok.h> (video_frame.h)
 * against the Vonage Linux SDK, in the manner of header_checks.h, which it
 * needs first: enum members and the metadata limit have the SDK's values,
 * the planar memory callbacks have the SDK's layout, and every function has
 * the SDK's exact type.
 */
#ifndef OTC_HEADER_VIDEO_FRAME_CHECKS_H
#define OTC_HEADER_VIDEO_FRAME_CHECKS_H

#include "header_checks.h"

HC_ASSERT(OTC_VIDEO_FRAME_METADATA_MAX_SIZE == 32, vf_meta_max);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_UNKNOWN == 0, vf0);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_YUV420P == 1, vf1);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_NV12 == 2, vf2);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_NV21 == 3, vf3);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_YUY2 == 4, vf4);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_UYVY == 5, vf5);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_ARGB32 == 6, vf6);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_BGRA32 == 7, vf7);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_RGB24 == 8, vf8);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_ABGR32 == 9, vf9);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_MJPEG == 10, vf10);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_RGBA32 == 11, vf11);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_MAX == 12, vf12);
HC_ASSERT(OTC_VIDEO_FRAME_FORMAT_COMPRESSED == 255, vf255);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_Y == 0, vp_y);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_U == 1, vp_u);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_V == 2, vp_v);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_PACKED == 0, vp_packed);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_UV_INTERLEAVED == 1, vp_uv);
HC_ASSERT(OTC_VIDEO_FRAME_PLANE_VU_INTERLEAVED == 1, vp_vu);
#define HC_VF_SLOT(field, n)                                                              \
    HC_ASSERT(offsetof(struct otc_video_frame_planar_memory_callbacks, field) ==          \
                  (n) * sizeof(void *),                                                   \
              vf_slot_##field)
HC_ASSERT(sizeof(struct otc_video_frame_planar_memory_callbacks) == 5 * sizeof(void *),
          vf_callbacks_size);
HC_VF_SLOT(get_plane, 0);
HC_VF_SLOT(get_plane_stride, 1);
HC_VF_SLOT(release, 2);
HC_VF_SLOT(user_data, 3);
HC_VF_SLOT(reserved, 4);

static const uint8_t *hc_vf_get_plane(void *u, enum otc_video_frame_plane p) { (void)u; (void)p; return NULL; }
static int hc_vf_get_stride(void *u, enum otc_video_frame_plane p) { (void)u; (void)p; return 0; }
static void hc_vf_release(void *u) { (void)u; }
static void hc_vf_release_buffer(const uint8_t *b, void *a) { (void)b; (void)a; }

/* The video frame functions' types, spelled as the SDK declares them.
 * Returns how many. */
static int hc_video_frame_function_types(void) {
    struct otc_video_frame_planar_memory_callbacks cb;
    otc_video_frame_memory_release_callback f_release = hc_vf_release_buffer;
    void *(*f_native)(const otc_video_frame *) = otc_video_frame_get_native_handle;
    otc_video_frame *(*f_new)(enum otc_video_frame_format, int, int, const uint8_t *) =
        otc_video_frame_new;
    otc_status (*f_delete)(otc_video_frame *) = otc_video_frame_delete;
    otc_video_frame *(*f_i420)(int, int, const uint8_t *, int, const uint8_t *, int,
                               const uint8_t *, int) = otc_video_frame_new_I420;
    otc_video_frame *(*f_mjpeg)(int, int, const uint8_t *, size_t) = otc_video_frame_new_MJPEG;
    otc_video_frame *(*f_compressed)(int, int, const uint8_t *, size_t) =
        otc_video_frame_new_compressed;
    otc_video_frame *(*f_from_planes)(enum otc_video_frame_format, int, int, const uint8_t **,
                                      int *) = otc_video_frame_new_from_planes;
    otc_video_frame *(*f_i420_from_planes)(enum otc_video_frame_format, int, int,
                                           const uint8_t **, int *) =
        otc_video_frame_new_I420_from_planes_with_format;
    otc_video_frame *(*f_contiguous)(enum otc_video_frame_format, int, int, otc_bool,
                                     const uint8_t *, size_t,
                                     otc_video_frame_memory_release_callback, void *) =
        otc_video_frame_new_contiguous_memory_wrapper;
    otc_video_frame *(*f_planar)(enum otc_video_frame_format, int, int, otc_bool,
                                 struct otc_video_frame_planar_memory_callbacks *) =
        otc_video_frame_new_planar_memory_wrapper;
    otc_video_frame *(*f_i420_wrapper)(int, int, const uint8_t *, int, const uint8_t *, int,
                                       const uint8_t *, int) = otc_video_frame_new_I420_wrapper;
    otc_video_frame *(*f_nv21)(int, int, const uint8_t *, int, const uint8_t *, int) =
        otc_video_frame_new_NV21_wrapper;
    otc_video_frame *(*f_nv12)(int, int, const uint8_t *, int, const uint8_t *, int) =
        otc_video_frame_new_NV12_wrapper;
    const uint8_t *(*f_buffer)(const otc_video_frame *) = otc_video_frame_get_buffer;
    size_t (*f_buffer_size)(const otc_video_frame *) = otc_video_frame_get_buffer_size;
    int64_t (*f_get_ts)(const otc_video_frame *) = otc_video_frame_get_timestamp;
    void (*f_set_ts)(otc_video_frame *, int64_t) = otc_video_frame_set_timestamp;
    int (*f_width)(const otc_video_frame *) = otc_video_frame_get_width;
    int (*f_height)(const otc_video_frame *) = otc_video_frame_get_height;
    size_t (*f_planes)(const otc_video_frame *) = otc_video_frame_get_number_of_planes;
    enum otc_video_frame_format (*f_get_format)(const otc_video_frame *) =
        otc_video_frame_get_format;
    void (*f_set_format)(otc_video_frame *, enum otc_video_frame_format) =
        otc_video_frame_set_format;
    const uint8_t *(*f_plane_data)(const otc_video_frame *, enum otc_video_frame_plane) =
        otc_video_frame_get_plane_binary_data;
    size_t (*f_plane_size)(const otc_video_frame *, enum otc_video_frame_plane) =
        otc_video_frame_get_plane_size;
    int (*f_plane_stride)(const otc_video_frame *, enum otc_video_frame_plane) =
        otc_video_frame_get_plane_stride;
    int (*f_plane_width)(const otc_video_frame *, enum otc_video_frame_plane) =
        otc_video_frame_get_plane_width;
    int (*f_plane_height)(const otc_video_frame *, enum otc_video_frame_plane) =
        otc_video_frame_get_plane_height;
    otc_video_frame *(*f_copy)(const otc_video_frame *) = otc_video_frame_copy;
    otc_video_frame *(*f_mutable_copy)(const otc_video_frame *) = otc_video_frame_mutable_copy;
    otc_video_frame *(*f_convert)(enum otc_video_frame_format, const otc_video_frame *) =
        otc_video_frame_convert;
    otc_status (*f_convert_inplace)(enum otc_video_frame_format, uint8_t **, const int *,
                                    const otc_video_frame *) = otc_video_frame_convert_inplace;
    otc_bool (*f_packed)(const otc_video_frame *) = otc_video_frame_is_packed;
    otc_bool (*f_contiguous_p)(const otc_video_frame *) = otc_video_frame_is_contiguous;
    otc_status (*f_set_meta)(otc_video_frame *, const uint8_t *, size_t) =
        otc_video_frame_set_metadata;
    const uint8_t *(*f_get_meta)(const otc_video_frame *, size_t *) = otc_video_frame_get_metadata;
    const void *all[] = {
        (const void *)&f_native, (const void *)&f_new, (const void *)&f_delete,
        (const void *)&f_i420, (const void *)&f_mjpeg, (const void *)&f_compressed,
        (const void *)&f_from_planes, (const void *)&f_i420_from_planes,
        (const void *)&f_contiguous, (const void *)&f_planar, (const void *)&f_i420_wrapper,
        (const void *)&f_nv21, (const void *)&f_nv12, (const void *)&f_buffer,
        (const void *)&f_buffer_size, (const void *)&f_get_ts, (const void *)&f_set_ts,
        (const void *)&f_width, (const void *)&f_height, (const void *)&f_planes,
        (const void *)&f_get_format, (const void *)&f_set_format, (const void *)&f_plane_data,
        (const void *)&f_plane_size, (const void *)&f_plane_stride, (const void *)&f_plane_width,
        (const void *)&f_plane_height, (const void *)&f_copy, (const void *)&f_mutable_copy,
        (const void *)&f_convert, (const void *)&f_convert_inplace, (const void *)&f_packed,
        (const void *)&f_contiguous_p, (const void *)&f_set_meta, (const void *)&f_get_meta};
    memset(&cb, 0, sizeof cb);
    cb.get_plane = hc_vf_get_plane;
    cb.get_plane_stride = hc_vf_get_stride;
    cb.release = hc_vf_release;
    (void)f_release;
    return (int)(sizeof all / sizeof all[0]) + (cb.release != NULL ? 0 : 1000);
}

#endif
