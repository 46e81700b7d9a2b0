/*
 * Failure paths that involve the network, and where the server is found:
 *
 *   - no server listening: connect is accepted, then on_error reports the
 *     failure (no on_connected), and the session can be deleted;
 *   - the server refuses a forged token or a session id it did not issue;
 *   - otc_session_settings_set_server_url wins over OTC_SERVER_URL, which
 *     wins over the built-in default;
 *   - a list of URLs (otc_session_settings_set_server_urls, or
 *     OTC_SERVER_URL with commas) skips a closed port and connects to the
 *     next URL; an empty entry in OTC_SERVER_URL makes connect return 1011.
 *
 * Environment from scripts/c-tests.sh (one token is used).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 15000

/* A loopback URL where nothing listens: the discard port, never served by
 * the test machine's otc-server (which picks a free ephemeral port). */
#define CLOSED_URL "http://127.0.0.1:9"

static struct client X;

static int is_connect_failure(int code) {
    return code == OTC_SESSION_CONNECTION_FAILED || code == OTC_SESSION_CONNECTION_REFUSED ||
           code == OTC_SESSION_CONNECTION_TIMED_OUT || code == OTC_SESSION_CONNECTION_DROPPED;
}

static void test_no_server(const struct test_env *e) {
    otc_session_settings *settings = otc_session_settings_new();
    CHECK_INT(otc_session_settings_set_server_url(settings, CLOSED_URL), OTC_SUCCESS,
              "set_server_url to a closed port");
    CHECK(client_new(&X, "closed", e, settings), "session with a closed server URL");
    otc_session_settings_delete(settings);
    CHECK_INT(otc_session_connect(X.session, e->token[0]), OTC_SUCCESS,
              "connect is accepted (the outcome comes through callbacks)");
    CHECK(client_wait(&X, p_error, NULL, WAIT_MS), "on_error when no server listens");
    CHECK(is_connect_failure(X.last_error),
          "the error is a connection failure (1006/1023/1021/1022)");
    if (!is_connect_failure(X.last_error)) printf("     got error %d\n", X.last_error);
    CHECK(!X.connected, "no on_connected");
    CHECK_INT(otc_session_send_signal(X.session, "t", "d"), OTC_SESSION_NOT_CONNECTED,
              "send after a failed connect returns 1010");
    client_free(&X);
}

static void test_refused(const struct test_env *e) {
    struct test_env bad = *e;

    CHECK(client_new(&X, "forged", e, NULL), "session for a forged token");
    CHECK_INT(otc_session_connect(X.session, "T1==forged-token"), OTC_SUCCESS, "connect accepted");
    CHECK(client_wait(&X, p_error, NULL, WAIT_MS), "on_error for a forged token");
    CHECK_INT(X.last_error, OTC_SESSION_AUTHORIZATION_FAILURE,
              "forged token: OTC_SESSION_AUTHORIZATION_FAILURE (1004)");
    CHECK(!X.connected, "forged token: not connected");
    client_free(&X);

    /* A session id the server never issued (its integrity check fails). */
    bad.session_id = "2_MX4xMDAwMDB-fjE3MDAwMDAwMDAwMDB-Zm9yZ2Vk";
    CHECK(client_new(&X, "bad-session", &bad, NULL), "session with a made-up id");
    CHECK_INT(otc_session_connect(X.session, e->token[0]), OTC_SUCCESS, "connect accepted");
    CHECK(client_wait(&X, p_error, NULL, WAIT_MS), "on_error for a made-up session id");
    CHECK(X.last_error == OTC_SESSION_INVALID_SESSION ||
              X.last_error == OTC_SESSION_AUTHORIZATION_FAILURE,
          "made-up session id: 1005 (invalid session) or 1004 (token not for it)");
    CHECK(!X.connected, "made-up session id: not connected");
    client_free(&X);
}

static void test_server_location(const struct test_env *e) {
    otc_session_settings *settings;
    char *saved = h_strdup(getenv("OTC_SERVER_URL"));

    /* Settings beat the environment. */
    setenv("OTC_SERVER_URL", CLOSED_URL, 1);
    settings = otc_session_settings_new();
    CHECK_INT(otc_session_settings_set_server_url(settings, saved), OTC_SUCCESS,
              "set_server_url to the real server");
    CHECK(client_new(&X, "settings-url", e, settings), "session with a server URL in settings");
    otc_session_settings_delete(settings);
    CHECK(client_connect(&X, e->token[0]), "the settings' URL is used, not OTC_SERVER_URL");
    client_free(&X);

    /* Without settings, the environment is used. */
    CHECK(client_new(&X, "env-closed", e, NULL), "session without a server URL");
    CHECK_INT(otc_session_connect(X.session, e->token[0]), OTC_SUCCESS, "connect accepted");
    CHECK(client_wait(&X, p_connected_or_error, NULL, WAIT_MS) && !X.connected,
          "OTC_SERVER_URL (a closed port) is used when the settings name no server");
    client_free(&X);

    setenv("OTC_SERVER_URL", saved, 1);
    CHECK(client_new(&X, "env", e, NULL), "session without a server URL");
    CHECK(client_connect(&X, e->token[0]), "OTC_SERVER_URL (the real server) is used");
    client_free(&X);

    /* ws:// works as well as http://. */
    {
        char ws[512];
        snprintf(ws, sizeof ws, "ws://%s", strstr(saved, "://") != NULL ? strstr(saved, "://") + 3 : saved);
        settings = otc_session_settings_new();
        CHECK_INT(otc_session_settings_set_server_url(settings, ws), OTC_SUCCESS, "ws:// URL accepted");
        CHECK(client_new(&X, "ws-url", e, settings), "session with a ws:// URL");
        otc_session_settings_delete(settings);
        CHECK(client_connect(&X, e->token[0]), "connects through a ws:// URL");
        client_free(&X);
    }

    /* A list: a closed port, then the real server. */
    {
        const char *urls[2];
        char list[1024];
        urls[0] = CLOSED_URL;
        urls[1] = saved;
        settings = otc_session_settings_new();
        CHECK_INT(otc_session_settings_set_server_urls(settings, urls, 2), OTC_SUCCESS,
                  "set_server_urls: a closed port, then the server");
        CHECK(client_new(&X, "url-list", e, settings), "session with a list of server URLs");
        otc_session_settings_delete(settings);
        CHECK(client_connect(&X, e->token[0]), "the closed port is skipped, the server connects");
        client_free(&X);

        snprintf(list, sizeof list, "%s , %s", CLOSED_URL, saved);
        setenv("OTC_SERVER_URL", list, 1);
        CHECK(client_new(&X, "env-list", e, NULL), "session without a server URL");
        CHECK(client_connect(&X, e->token[0]), "OTC_SERVER_URL=\"closed , server\" connects");
        client_free(&X);

        snprintf(list, sizeof list, "%s,,%s", saved, CLOSED_URL);
        setenv("OTC_SERVER_URL", list, 1);
        CHECK(client_new(&X, "env-empty-entry", e, NULL), "session without a server URL");
        CHECK_INT(otc_session_connect(X.session, e->token[0]),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "an empty entry in OTC_SERVER_URL: connect returns 1011");
        client_free(&X);
        setenv("OTC_SERVER_URL", saved, 1);
    }
    free(saved);
}

int main(void) {
    struct test_env e = test_env(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init");
    test_no_server(&e);
    test_refused(&e);
    test_server_location(&e);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");
    return finish();
}
