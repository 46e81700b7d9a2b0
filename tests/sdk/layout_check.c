/*
 * The layout of <opentok.h> against the Vonage Video Linux SDK 2.32 headers,
 * for x86_64 (LP64): for every struct of the SDK, its size, alignment and the
 * offset and size of every field; the value of every enum member and numeric
 * macro; the typedef names. One group per SDK header (tests/sdk/layout/);
 * <opentok/capabilities.h> declares nothing, so it has none.
 *
 * Built twice from this one source by scripts/sdk-style-tests.sh, as C99
 * (gcc -std=c99) and as C++14 (clang++ -x c++ -std=c++14 -stdlib=libc++),
 * both with -Wall -Wextra -Werror -pedantic; it also builds each group on
 * its own with layout_one.c. Prints every difference, then
 * "N passed, M failed"; exits non-zero when a check failed.
 */
#include "layout_check.h"

#include "layout/check_audio_data.h"
#include "layout/check_audio_device.h"
#include "layout/check_audio_module_input_device.h"
#include "layout/check_audio_module_output_device.h"
#include "layout/check_base.h"
#include "layout/check_camera_capture_resolution.h"
#include "layout/check_config.h"
#include "layout/check_connection.h"
#include "layout/check_error.h"
#include "layout/check_media_transformer.h"
#include "layout/check_media_utils.h"
#include "layout/check_publisher.h"
#include "layout/check_session.h"
#include "layout/check_stream.h"
#include "layout/check_subscriber.h"
#include "layout/check_video_capturer.h"
#include "layout/check_video_frame.h"

int main(void) {
    lc_check_audio_data();
    lc_check_audio_device();
    lc_check_audio_module_input_device();
    lc_check_audio_module_output_device();
    lc_check_base();
    lc_check_camera_capture_resolution();
    lc_check_config();
    lc_check_connection();
    lc_check_error();
    lc_check_media_transformer();
    lc_check_media_utils();
    lc_check_publisher();
    lc_check_session();
    lc_check_stream();
    lc_check_subscriber();
    lc_check_video_capturer();
    lc_check_video_frame();
    return lc_finish();
}
