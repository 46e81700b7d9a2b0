// A program written the way the Vonage Linux SDK samples are written, built
// the way they are built (CMakeLists.txt beside this file), run by
// scripts/sdk-style-tests.sh against an otc-server on loopback:
//
//   sdk_style_check SERVER_URL API_KEY SESSION_ID TOKEN
//
// It uses only SDK names: the server URL reaches the library through the
// environment variable OTC_SERVER_URL, so the source is what one would
// write for the Vonage SDK itself. It connects, sends a signal to itself
// (broadcast, and to its own connection) and waits for both, calls a
// function of each media group and checks the SDK's documented failure
// value, disconnects and deletes the session (on_disconnected must have
// arrived when otc_session_delete returns), calls otc_destroy, and prints
// "N passed, M failed". Every wait has a deadline.

#include <opentok.h>

// Every per-file header, as the SDK installs them; each includes what it
// needs, so including all of them after <opentok.h> must be harmless.
#include <opentok/audio_data.h>
#include <opentok/audio_device.h>
#include <opentok/audio_module_input_device.h>
#include <opentok/audio_module_output_device.h>
#include <opentok/base.h>
#include <opentok/camera_capture_resolution.h>
#include <opentok/capabilities.h>
#include <opentok/config.h>
#include <opentok/connection.h>
#include <opentok/error.h>
#include <opentok/media_transformer.h>
#include <opentok/media_utils.h>
#include <opentok/publisher.h>
#include <opentok/session.h>
#include <opentok/stream.h>
#include <opentok/subscriber.h>
#include <opentok/video_capturer.h>
#include <opentok/video_frame.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kConnectSeconds = 15;
constexpr int kSignalSeconds = 10;
constexpr int kLogSeconds = 5;

// ---- checks -----------------------------------------------------------------

int g_passed = 0;
int g_failed = 0;

void check(bool ok, const std::string &what, const std::string &detail = std::string()) {
  if (ok) {
    g_passed++;
    std::cout << "ok   " << what << std::endl;
  } else {
    g_failed++;
    std::cout << "FAIL " << what;
    if (!detail.empty()) {
      std::cout << ": " << detail;
    }
    std::cout << std::endl;
  }
}

std::string status_text(otc_status status) {
  std::ostringstream out;
  out << "returned " << status;
  return out.str();
}

// ---- what the callbacks saw ---------------------------------------------------

struct ReceivedSignal {
  std::string type;
  std::string data;
  std::string from;  // connection id, "" for a signal from the server
};

struct Events {
  std::mutex lock;
  std::condition_variable changed;
  bool connected = false;
  bool disconnected = false;
  int session_errors = 0;
  int log_messages = 0;
  std::vector<ReceivedSignal> signals;
};

Events g_events;

// Waits until `done()` holds (under g_events.lock) or `seconds` pass.
template <typename Predicate>
bool wait_for(int seconds, Predicate done) {
  std::unique_lock<std::mutex> guard(g_events.lock);
  return g_events.changed.wait_for(guard, std::chrono::seconds(seconds), done);
}

bool received(const std::string &data) {
  for (const ReceivedSignal &s : g_events.signals) {
    if (s.data == data) {
      return true;
    }
  }
  return false;
}

// A copy of the first signal received with this data.
ReceivedSignal signal_with(const std::string &data) {
  std::lock_guard<std::mutex> guard(g_events.lock);
  for (const ReceivedSignal &s : g_events.signals) {
    if (s.data == data) {
      return s;
    }
  }
  return ReceivedSignal();
}

// ---- callbacks ------------------------------------------------------------------

void on_session_connected(otc_session *session, void *user_data) {
  (void)session;
  Events *events = static_cast<Events *>(user_data);
  std::cout << __func__ << " callback function" << std::endl;
  std::lock_guard<std::mutex> guard(events->lock);
  events->connected = true;
  events->changed.notify_all();
}

void on_session_disconnected(otc_session *session, void *user_data) {
  (void)session;
  Events *events = static_cast<Events *>(user_data);
  std::cout << __func__ << " callback function" << std::endl;
  std::lock_guard<std::mutex> guard(events->lock);
  events->disconnected = true;
  events->changed.notify_all();
}

void on_session_connection_created(otc_session *session, void *user_data,
                                   const otc_connection *connection) {
  (void)session;
  (void)user_data;
  const char *id = otc_connection_get_id(connection);
  std::cout << __func__ << ": " << (id != nullptr ? id : "(null)") << std::endl;
}

void on_session_connection_dropped(otc_session *session, void *user_data,
                                   const otc_connection *connection) {
  (void)session;
  (void)user_data;
  (void)connection;
  std::cout << __func__ << " callback function" << std::endl;
}

void on_session_stream_received(otc_session *session, void *user_data,
                                const otc_stream *stream) {
  (void)session;
  (void)user_data;
  (void)stream;
  std::cout << __func__ << " callback function" << std::endl;
}

void on_session_stream_dropped(otc_session *session, void *user_data,
                               const otc_stream *stream) {
  (void)session;
  (void)user_data;
  (void)stream;
  std::cout << __func__ << " callback function" << std::endl;
}

void on_session_signal_received(otc_session *session, void *user_data, const char *type,
                                const char *signal, const otc_connection *connection) {
  (void)session;
  Events *events = static_cast<Events *>(user_data);
  ReceivedSignal s;
  s.type = type != nullptr ? type : "";
  s.data = signal != nullptr ? signal : "";
  const char *from = connection != nullptr ? otc_connection_get_id(connection) : nullptr;
  s.from = from != nullptr ? from : "";
  std::cout << __func__ << ": type=" << s.type << " data=" << s.data << std::endl;
  std::lock_guard<std::mutex> guard(events->lock);
  events->signals.push_back(s);
  events->changed.notify_all();
}

void on_session_error(otc_session *session, void *user_data, const char *error_string,
                      enum otc_session_error_code error) {
  (void)session;
  Events *events = static_cast<Events *>(user_data);
  std::cout << __func__ << ": " << (error_string != nullptr ? error_string : "")
            << " (error " << static_cast<int>(error) << ")" << std::endl;
  std::lock_guard<std::mutex> guard(events->lock);
  events->session_errors++;
  events->changed.notify_all();
}

void on_publisher_error(otc_publisher *publisher, void *user_data, const char *error_string,
                        enum otc_publisher_error_code error_code) {
  (void)publisher;
  (void)user_data;
  std::cout << __func__ << ": " << (error_string != nullptr ? error_string : "")
            << " (error " << static_cast<int>(error_code) << ")" << std::endl;
}

void on_otc_log_message(const char *message) {
  std::cout << "  [libopentok] " << (message != nullptr ? message : "") << std::endl;
  std::lock_guard<std::mutex> guard(g_events.lock);
  g_events.log_messages++;
  g_events.changed.notify_all();
}

// ---- one function (or a few) of each media group --------------------------------

// A 4x4 I420 frame, converted to ARGB32: real work, no media engine needed.
void video_frame_checks() {
  std::vector<uint8_t> i420(4 * 4 + 2 * (2 * 2), 128);
  otc_video_frame *frame =
      otc_video_frame_new(OTC_VIDEO_FRAME_FORMAT_YUV420P, 4, 4, i420.data());
  check(frame != nullptr, "otc_video_frame_new(YUV420P, 4x4) makes a frame");
  if (frame != nullptr) {
    check(otc_video_frame_get_width(frame) == 4 && otc_video_frame_get_height(frame) == 4,
          "the frame is 4x4");
    check(otc_video_frame_get_format(frame) == OTC_VIDEO_FRAME_FORMAT_YUV420P,
          "the frame's format is YUV420P");
    otc_video_frame *argb = otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_ARGB32, frame);
    check(argb != nullptr, "otc_video_frame_convert(ARGB32) makes a frame");
    if (argb != nullptr) {
      check(otc_video_frame_get_format(argb) == OTC_VIDEO_FRAME_FORMAT_ARGB32 &&
                otc_video_frame_get_width(argb) == 4 && otc_video_frame_get_height(argb) == 4,
            "the converted frame is 4x4 ARGB32");
      otc_status st = otc_video_frame_delete(argb);
      check(st == OTC_SUCCESS, "otc_video_frame_delete(converted frame)", status_text(st));
    }
    otc_status st = otc_video_frame_delete(frame);
    check(st == OTC_SUCCESS, "otc_video_frame_delete(frame)", status_text(st));
  }
  check(otc_video_frame_convert(OTC_VIDEO_FRAME_FORMAT_ARGB32, nullptr) == nullptr,
        "otc_video_frame_convert(NULL frame) returns NULL");
  check(otc_video_frame_delete(nullptr) != OTC_SUCCESS,
        "otc_video_frame_delete(NULL) returns an error");
}

// A publisher is made and deleted; publishing it cannot work here.
void publisher_checks(otc_session *session) {
  struct otc_publisher_callbacks callbacks = {0};
  callbacks.on_error = on_publisher_error;
  callbacks.user_data = &g_events;
  otc_publisher *publisher = otc_publisher_new("sdk-style", nullptr, &callbacks);
  check(publisher != nullptr, "otc_publisher_new makes a publisher");
  if (publisher != nullptr) {
    otc_status st = otc_session_publish(session, publisher);
    check(st != OTC_SUCCESS, "otc_session_publish fails (no media engine)", status_text(st));
    check(otc_publisher_get_stream(publisher) == nullptr,
          "an unpublished publisher has no stream (NULL)");
    st = otc_publisher_delete(publisher);
    check(st == OTC_SUCCESS, "otc_publisher_delete", status_text(st));
  }
  check(otc_publisher_delete(nullptr) != OTC_SUCCESS,
        "otc_publisher_delete(NULL) returns an error");
}

void stream_and_subscriber_checks(otc_session *session) {
  check(otc_stream_get_id(nullptr) == nullptr, "otc_stream_get_id(NULL) returns NULL");
  check(otc_stream_has_video(nullptr) == OTC_FALSE,
        "otc_stream_has_video(NULL) returns OTC_FALSE");
  struct otc_subscriber_callbacks callbacks = {0};
  callbacks.user_data = &g_events;
  check(otc_subscriber_new(nullptr, &callbacks) == nullptr,
        "otc_subscriber_new(NULL stream) returns NULL");
  check(otc_session_subscribe(session, nullptr) != OTC_SUCCESS,
        "otc_session_subscribe(NULL subscriber) returns an error");
  check(otc_subscriber_delete(nullptr) != OTC_SUCCESS,
        "otc_subscriber_delete(NULL) returns an error");
}

void audio_device_checks() {
  check(otc_audio_module_input_device_enumerator_get_device_name(nullptr, 0) == nullptr,
        "otc_audio_module_input_device_enumerator_get_device_name(NULL, 0) returns NULL");
  check(otc_audio_module_output_device_enumerator_delete(nullptr) != OTC_SUCCESS,
        "otc_audio_module_output_device_enumerator_delete(NULL) returns an error");
  check(otc_audio_device_write_capture_data(nullptr, 160) != OTC_SUCCESS,
        "otc_audio_device_write_capture_data(NULL buffer) returns an error");
}

void video_capturer_checks() {
  check(otc_video_capturer_provide_frame(nullptr, 0, nullptr) != OTC_SUCCESS,
        "otc_video_capturer_provide_frame(NULL capturer) returns an error");
  check(otc_video_capturer_set_content_hint(nullptr, OTC_VIDEO_CAPTURER_CONTENT_HINT_TYPE_MOTION) !=
            OTC_SUCCESS,
        "otc_video_capturer_set_content_hint(NULL capturer) returns an error");
}

void media_utils_checks() {
  check(otc_media_utils_get_supported_codecs(nullptr) != OTC_SUCCESS,
        "otc_media_utils_get_supported_codecs(NULL) returns an error");
  check(otc_media_utils_codecs_delete(nullptr) != OTC_SUCCESS,
        "otc_media_utils_codecs_delete(NULL) returns an error");
}

void media_transformer_checks() {
  check(otc_video_transformer_create(OTC_MEDIA_TRANSFORMER_TYPE_CUSTOM, "sdk-style", "{}",
                                     nullptr, nullptr) == nullptr,
        "otc_video_transformer_create(CUSTOM, no callback) returns NULL");
  check(otc_video_transformer_delete(nullptr) != OTC_SUCCESS,
        "otc_video_transformer_delete(NULL) returns an error");
  check(otc_audio_transformer_delete(nullptr) != OTC_SUCCESS,
        "otc_audio_transformer_delete(NULL) returns an error");
}

// ---- signals to ourselves ----------------------------------------------------------

void signal_checks(otc_session *session, const std::string &own_id) {
  const otc_connection *me = otc_session_get_connection(session);
  const std::string broadcast = "sdk-style broadcast";
  const std::string direct = "sdk-style to my own connection";

  otc_status st = otc_session_send_signal(session, "sdkstyle", broadcast.c_str());
  check(st == OTC_SUCCESS, "otc_session_send_signal", status_text(st));
  bool got = wait_for(kSignalSeconds, [&] { return received(broadcast); });
  check(got, "the broadcast came back to its sender");
  if (got) {
    ReceivedSignal s = signal_with(broadcast);
    check(s.type == "sdkstyle", "its type arrived unchanged", "got \"" + s.type + "\"");
    check(s.from == own_id, "its connection is our own", "from \"" + s.from + "\"");
  }

  if (me != nullptr) {
    st = otc_session_send_signal_to_connection(session, "sdkstyle", direct.c_str(), me);
    check(st == OTC_SUCCESS, "otc_session_send_signal_to_connection(own connection)",
          status_text(st));
    got = wait_for(kSignalSeconds, [&] { return received(direct); });
    check(got, "the signal to our own connection arrived");
  }

  st = otc_session_send_signal(session, "not a valid type!", "x");
  check(st == OTC_SESSION_INVALID_SIGNAL_TYPE,
        "otc_session_send_signal with an invalid type returns OTC_SESSION_INVALID_SIGNAL_TYPE",
        status_text(st));
}

int finish() {
  std::cout << g_passed << " passed, " << g_failed << " failed" << std::endl;
  return g_failed == 0 && g_passed > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::cerr << "usage: " << argv[0] << " SERVER_URL API_KEY SESSION_ID TOKEN" << std::endl;
    return 2;
  }
  const char *server_url = argv[1];
  const char *api_key = argv[2];
  const char *session_id = argv[3];
  const char *token = argv[4];
  // The one thing a program written for the Vonage SDK does not say: where
  // the server is. libopentok reads it from the environment.
  setenv("OTC_SERVER_URL", server_url, 1);

  otc_status st = otc_init(nullptr);
  check(st == OTC_SUCCESS, "otc_init", status_text(st));
  if (st != OTC_SUCCESS) {
    return finish();
  }
  otc_log_set_logger_callback(on_otc_log_message);
  otc_log_enable(OTC_LOG_LEVEL_WARN);
  check(otc_get_log_level() == OTC_LOG_LEVEL_WARN, "otc_get_log_level returns the level set");

  struct otc_session_callbacks session_callbacks = {0};
  session_callbacks.on_connected = on_session_connected;
  session_callbacks.on_disconnected = on_session_disconnected;
  session_callbacks.on_connection_created = on_session_connection_created;
  session_callbacks.on_connection_dropped = on_session_connection_dropped;
  session_callbacks.on_stream_received = on_session_stream_received;
  session_callbacks.on_stream_dropped = on_session_stream_dropped;
  session_callbacks.on_signal_received = on_session_signal_received;
  session_callbacks.on_error = on_session_error;
  session_callbacks.user_data = &g_events;

  otc_session *session = otc_session_new(api_key, session_id, &session_callbacks);
  check(session != nullptr, "otc_session_new");
  if (session == nullptr) {
    otc_destroy();
    return finish();
  }
  check(otc_session_get_user_data(session) == &g_events,
        "otc_session_get_user_data returns the callbacks' user_data");

  st = otc_session_connect(session, token);
  check(st == OTC_SUCCESS, "otc_session_connect", status_text(st));
  bool connected = false;
  if (st == OTC_SUCCESS) {
    wait_for(kConnectSeconds, [] { return g_events.connected || g_events.session_errors > 0; });
    std::lock_guard<std::mutex> guard(g_events.lock);
    connected = g_events.connected;
  }
  check(connected, "on_connected arrived");

  std::string own_id;
  if (connected) {
    const otc_connection *me = otc_session_get_connection(session);
    const char *id = me != nullptr ? otc_connection_get_id(me) : nullptr;
    own_id = id != nullptr ? id : "";
    check(!own_id.empty(), "otc_session_get_connection gives our connection id", own_id);
    signal_checks(session, own_id);
  }

  video_frame_checks();
  publisher_checks(session);
  stream_and_subscriber_checks(session);
  audio_device_checks();
  video_capturer_checks();
  media_utils_checks();
  media_transformer_checks();

  // The failing calls above log; the logger set at the start hears them.
  check(wait_for(kLogSeconds, [] { return g_events.log_messages > 0; }),
        "the logger callback received the library's messages");

  // As the SDK samples end: disconnect, then delete straight away.
  if (connected) {
    st = otc_session_disconnect(session);
    check(st == OTC_SUCCESS, "otc_session_disconnect", status_text(st));
  }
  st = otc_session_delete(session);
  check(st == OTC_SUCCESS, "otc_session_delete", status_text(st));
  if (connected) {
    std::lock_guard<std::mutex> guard(g_events.lock);
    check(g_events.disconnected, "on_disconnected arrived before otc_session_delete returned");
  }
  {
    std::lock_guard<std::mutex> guard(g_events.lock);
    std::ostringstream n;
    n << g_events.session_errors << " on_error call(s)";
    check(g_events.session_errors == 0, "no session on_error", n.str());
  }

  st = otc_destroy();
  check(st == OTC_SUCCESS, "otc_destroy", status_text(st));
  return finish();
}
