// echo_bot -- answers every signal from another participant with a private
// signal of type "echo" carrying the same data.
//
// Written in the style of the Vonage Video Linux SDK's signaling sample: a
// `struct otc_session_callbacks` filled by field name, and the answer sent
// with otc_session_send_signal_to_connection() straight from inside
// on_signal_received (the library allows any API call from a callback).
//
// It ignores its own broadcasts (a broadcast reaches its sender too), signals
// of type "echo" (so two bots in one session do not ping-pong forever) and
// signals sent by the server through the REST API (connection == NULL: there
// is nobody to answer privately).
//
// Usage: echo_bot [--server URL] [--id-file PATH] [--max-seconds N] [--log LEVEL]
//                 API_KEY SESSION_ID TOKEN
//   (or OTC_API_KEY, OTC_SESSION_ID, OTC_TOKEN; the server from OTC_SERVER_URL)
// Runs until SIGINT/SIGTERM, until the session ends, or for --max-seconds.

#include <opentok.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

namespace {

std::atomic<bool> g_is_connected(false);
std::atomic<bool> g_is_disconnected(false);
std::atomic<bool> g_failed(false);
std::atomic<unsigned long> g_echoed(0);
volatile std::sig_atomic_t g_stop = 0;

// Our own connection id, set once in on_connected and read by later
// callbacks (callbacks of one session run one at a time, in order).
std::string g_own_id;
std::string g_id_file;
std::mutex g_print_lock;

void say(const std::string &line) {
  std::lock_guard<std::mutex> guard(g_print_lock);
  std::cout << line << std::endl;
}

void on_session_connected(otc_session *session, void *user_data) {
  (void)user_data;
  const otc_connection *me = otc_session_get_connection(session);
  const char *id = me != nullptr ? otc_connection_get_id(me) : nullptr;
  g_own_id = id != nullptr ? id : "";
  say("echo_bot: connected as " + g_own_id);
  if (!g_id_file.empty()) {
    std::ofstream out(g_id_file);
    out << g_own_id << "\n";
  }
  g_is_connected = true;
}

void on_session_disconnected(otc_session *session, void *user_data) {
  (void)session;
  (void)user_data;
  say("echo_bot: disconnected");
  g_is_disconnected = true;
}

void on_session_connection_created(otc_session *session, void *user_data,
                                   const otc_connection *connection) {
  (void)session;
  (void)user_data;
  const char *id = otc_connection_get_id(connection);
  say(std::string("echo_bot: connection created ") + (id != nullptr ? id : "?"));
}

void on_session_connection_dropped(otc_session *session, void *user_data,
                                   const otc_connection *connection) {
  (void)session;
  (void)user_data;
  const char *id = otc_connection_get_id(connection);
  say(std::string("echo_bot: connection dropped ") + (id != nullptr ? id : "?"));
}

void on_session_signal_received(otc_session *session, void *user_data, const char *type,
                                const char *signal, const otc_connection *connection) {
  (void)user_data;
  const std::string kind = type != nullptr ? type : "";
  const std::string data = signal != nullptr ? signal : "";
  if (connection == nullptr) {
    say("echo_bot: signal from the server (not answered) " + kind + ": " + data);
    return;
  }
  const char *from = otc_connection_get_id(connection);
  const std::string sender = from != nullptr ? from : "";
  if (sender == g_own_id || kind == "echo") {
    return;
  }
  otc_status status = otc_session_send_signal_to_connection(session, "echo", signal, connection);
  if (status == OTC_SUCCESS) {
    ++g_echoed;
    say("echo_bot: echoed to " + sender + ": " + data);
  } else {
    say("echo_bot: could not answer " + sender + ": error " + std::to_string(status));
  }
}

void on_session_error(otc_session *session, void *user_data, const char *error_string,
                      enum otc_session_error_code error) {
  (void)session;
  (void)user_data;
  say("echo_bot: error " + std::to_string(static_cast<int>(error)) + ": " +
      (error_string != nullptr ? error_string : ""));
  if (!g_is_connected) {
    g_failed = true;
  }
}

void on_stop_signal(int) { g_stop = 1; }

void usage() {
  std::cerr << "usage: echo_bot [--server URL] [--id-file PATH] [--max-seconds N] [--log LEVEL]\n"
               "                API_KEY SESSION_ID TOKEN\n"
               "  (or OTC_API_KEY, OTC_SESSION_ID, OTC_TOKEN; server from OTC_SERVER_URL)\n";
}

const char *env_or(const char *given, const char *name) {
  return given != nullptr ? given : std::getenv(name);
}

}  // namespace

int main(int argc, char **argv) {
  const char *server = nullptr;
  const char *positional[3] = {nullptr, nullptr, nullptr};
  int npos = 0;
  long max_seconds = 0;  // 0: until a stop signal
  int log_level = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (i + 1 < argc && a == "--server") {
      server = argv[++i];
    } else if (i + 1 < argc && a == "--id-file") {
      g_id_file = argv[++i];
    } else if (i + 1 < argc && a == "--max-seconds") {
      max_seconds = std::strtol(argv[++i], nullptr, 10);
    } else if (i + 1 < argc && a == "--log") {
      log_level = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    } else if (a.compare(0, 2, "--") == 0 || npos == 3) {
      usage();
      return 2;
    } else {
      positional[npos++] = argv[i];
    }
  }
  const char *api_key = env_or(positional[0], "OTC_API_KEY");
  const char *session_id = env_or(positional[1], "OTC_SESSION_ID");
  const char *token = env_or(positional[2], "OTC_TOKEN");
  if (api_key == nullptr || session_id == nullptr || token == nullptr) {
    usage();
    return 2;
  }

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (otc_init(nullptr) != OTC_SUCCESS) {
    std::cerr << "echo_bot: could not initialize the library\n";
    return 1;
  }
  if (log_level >= 0) {
    otc_log_enable(static_cast<enum otc_log_level>(log_level));
  }

  // The SDK sample writes `= {0}`; in C++ `= {}` zero-fills the same way
  // without g++ -Wextra warning about every callback left out.
  struct otc_session_callbacks session_callbacks = {};
  session_callbacks.on_connected = on_session_connected;
  session_callbacks.on_disconnected = on_session_disconnected;
  session_callbacks.on_connection_created = on_session_connection_created;
  session_callbacks.on_connection_dropped = on_session_connection_dropped;
  session_callbacks.on_signal_received = on_session_signal_received;
  session_callbacks.on_error = on_session_error;

  otc_session_settings *settings = nullptr;
  otc_session *session = nullptr;
  if (server != nullptr) {
    settings = otc_session_settings_new();
    if (settings == nullptr ||
        otc_session_settings_set_server_url(settings, server) != OTC_SUCCESS) {
      std::cerr << "echo_bot: invalid server URL " << server << "\n";
      if (settings != nullptr) otc_session_settings_delete(settings);
      otc_destroy();
      return 1;
    }
    session = otc_session_new_with_settings(api_key, session_id, &session_callbacks, settings);
  } else {
    session = otc_session_new(api_key, session_id, &session_callbacks);
  }
  if (session == nullptr) {
    std::cerr << "echo_bot: could not create the session\n";
    if (settings != nullptr) otc_session_settings_delete(settings);
    otc_destroy();
    return 1;
  }

  int status = 0;
  if (otc_session_connect(session, token) != OTC_SUCCESS) {
    std::cerr << "echo_bot: could not start connecting\n";
    status = 1;
  } else {
    const auto start = std::chrono::steady_clock::now();
    while (!g_stop && !g_failed && !g_is_disconnected) {
      if (max_seconds > 0 &&
          std::chrono::steady_clock::now() - start >= std::chrono::seconds(max_seconds)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (g_failed || !g_is_connected) {
      status = 1;
    }
    if (g_is_connected && !g_is_disconnected) {
      otc_session_disconnect(session);
      // Bounded wait for on_disconnected; deleting the session below stops
      // every callback anyway.
      for (int i = 0; i < 100 && !g_is_disconnected; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  say("echo_bot: answered " + std::to_string(g_echoed.load()) + " signal(s)");

  otc_session_delete(session);
  if (settings != nullptr) otc_session_settings_delete(settings);
  otc_destroy();
  return status;
}
