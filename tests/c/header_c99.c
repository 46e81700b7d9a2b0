/*
 * The installed <opentok.h> as a C99 program sees it (built by
 * scripts/c-tests.sh with -std=c99 -Wall -Wextra -Werror -pedantic).
 * Compile-only by default; with -DOTC_TEST_MAIN it also links against
 * libopentok and checks a few answers that depend on header and library
 * agreeing (constants, a struct returned by value).
 */
#include "header_checks.h"
#include "header_media_checks.h"
#include "header_video_frame_checks.h"

#include <stdio.h>

/* The SDK's samples zero a callbacks struct with `= {0}`, with and without
 * the `struct` keyword. */
static int hc_zero_init(void) {
    struct otc_session_callbacks a = {0};
    otc_session_callbacks b = {0};
    struct otc_signal_options o = {OTC_TRUE};
    return a.on_connected == NULL && b.on_error == NULL && b.user_data == NULL &&
           o.retry_after_reconnect == OTC_TRUE;
}

#ifdef OTC_TEST_MAIN
static int failures;
static void expect(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

int main(void) {
    struct otc_session_callbacks cb = hc_fill_callbacks();
    struct otc_session_capabilities caps;
    enum otc_log_level level = otc_get_log_level();
    expect(hc_function_types() == 32, "32 functions with the SDK's types");
    expect(hm_function_types() == 105, "105 media functions with the SDK's types");
    expect(hm_fill_callbacks() == 8, "every media callback field assignable");
    expect(hc_video_frame_function_types() == 35, "35 video frame functions with the SDK's types");
    expect(hc_zero_init(), "= {0} zero-fills the callbacks");
    expect(cb.on_error != NULL, "callback fields assignable");
    expect(level == OTC_LOG_LEVEL_DISABLED || (level >= OTC_LOG_LEVEL_FATAL &&
                                               level <= OTC_LOG_LEVEL_TRACE) ||
               level == OTC_LOG_LEVEL_ALL,
           "otc_get_log_level returns an otc_log_level");
    expect(otc_init(NULL) == OTC_SUCCESS, "otc_init");
    expect(otc_session_send_signal(NULL, "t", "d") == OTC_SESSION_NULL_OR_INVALID_PARAMETER,
           "send on NULL session returns OTC_SESSION_NULL_OR_INVALID_PARAMETER (1011)");
    caps = otc_session_get_capabilities(NULL);
    expect(caps.publish == OTC_FALSE, "capabilities returned by value; NULL session cannot publish");
    expect(otc_destroy() == OTC_SUCCESS, "otc_destroy");
    expect(otc_destroy() == OTC_SESSION_ILLEGAL_STATE,
           "second otc_destroy returns OTC_SESSION_ILLEGAL_STATE (1015)");
    printf("%d failure(s)\n", failures);
    return failures == 0 ? 0 : 1;
}
#else
int hc_use_c99(void);
int hc_use_c99(void) {
    struct otc_session_callbacks cb = hc_fill_callbacks();
    return hc_function_types() + hm_function_types() + hm_fill_callbacks() +
           hc_video_frame_function_types() + hc_zero_init() +
           (cb.on_error != NULL);
}
#endif
