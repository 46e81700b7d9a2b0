// The installed <opentok.h> as a C++14 program sees it (built by
// scripts/c-tests.sh with -std=c++14 -Wall -Wextra -Werror -pedantic):
// declarations inside extern "C", the same types and layouts as in C.
// With -DOTC_TEST_ZERO_INIT it also checks the SDK samples' `= {0}`
// initializers (built with -Wno-missing-field-initializers, since g++
// -Wextra warns about `= {0}` for every struct).
#include "header_checks.h"
#include "header_media_checks.h"
#include "header_video_frame_checks.h"

#include <type_traits>

static_assert(std::is_same<decltype(otc_session_get_id(nullptr)), char *>::value,
              "otc_session_get_id returns char*");
static_assert(std::is_same<decltype(otc_session_get_capabilities(nullptr)),
                           struct otc_session_capabilities>::value,
              "otc_session_get_capabilities returns the struct by value");
static_assert(std::is_same<decltype(otc_get_log_level()), enum otc_log_level>::value,
              "otc_get_log_level returns enum otc_log_level");

#ifdef OTC_TEST_ZERO_INIT
int hc_zero_init_cxx();
int hc_zero_init_cxx() {
  struct otc_session_callbacks a = {0};
  otc_session_callbacks b = {0};
  return a.on_connected == nullptr && b.user_data == nullptr;
}
#endif

int hc_use_cxx14();
int hc_use_cxx14() {
  otc_session_callbacks zeroed = {};
  struct otc_session_callbacks filled = hc_fill_callbacks();
  struct otc_signal_options options = {OTC_TRUE};
  return hc_function_types() + hm_function_types() + hm_fill_callbacks() +
         hc_video_frame_function_types() + (zeroed.on_connected == nullptr) + (filled.on_error != nullptr) +
         options.retry_after_reconnect;
}
