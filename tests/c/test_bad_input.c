/*
 * Bad input from C: every case returns the documented code (or NULL) and
 * logs why; none crashes.
 *
 *   - calls before otc_init and after otc_destroy;
 *   - NULL pointers for every pointer argument;
 *   - invalid UTF-8, over-long type or data, forbidden type characters;
 *   - calls on a session that is not connected, disconnected, or deleted;
 *   - logging: otc_log_enable / otc_get_log_level / the logger callback
 *     receive the reason for a refused call, and nothing once disabled.
 *
 * Environment from scripts/c-tests.sh (one token is used).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 10000

static struct client A;

/* ---- a logger that keeps what it is given ---- */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_count;
static char log_last[1024];
static int log_mentions_type; /* a message mentioned a signal type */

static void logger(const char *message) {
    pthread_mutex_lock(&log_lock);
    log_count++;
    snprintf(log_last, sizeof log_last, "%s", message != NULL ? message : "(null)");
    if (message != NULL && strstr(message, "type") != NULL) log_mentions_type = 1;
    pthread_mutex_unlock(&log_lock);
}

static int logged(void) {
    int n;
    pthread_mutex_lock(&log_lock);
    n = log_count;
    pthread_mutex_unlock(&log_lock);
    return n;
}

static void test_before_init(const struct test_env *e) {
    struct otc_session_callbacks cb;
    memset(&cb, 0, sizeof cb);
    CHECK(otc_session_new(e->api_key, e->session_id, &cb) == NULL,
          "otc_session_new before otc_init returns NULL");
    CHECK_INT(otc_destroy(), OTC_SESSION_ILLEGAL_STATE,
              "otc_destroy before otc_init returns OTC_SESSION_ILLEGAL_STATE (1015)");
    CHECK_INT(otc_session_send_signal(NULL, "t", "d") != OTC_SUCCESS, 1,
              "send on a NULL session before otc_init fails");
    CHECK(otc_connection_copy(NULL) == NULL, "otc_connection_copy(NULL) before init is NULL");
}

static void test_null_and_invalid_arguments(const struct test_env *e) {
    struct otc_session_callbacks cb;
    otc_session_settings *settings;
    otc_session *s;
    memset(&cb, 0, sizeof cb);

    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init");
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init again while initialized is harmless");

    CHECK(otc_session_new(NULL, e->session_id, &cb) == NULL, "otc_session_new(NULL api key)");
    CHECK(otc_session_new(e->api_key, NULL, &cb) == NULL, "otc_session_new(NULL session id)");
    CHECK(otc_session_new(e->api_key, e->session_id, NULL) == NULL,
          "otc_session_new(NULL callbacks)");
    CHECK(otc_session_new("\xff\xfe", e->session_id, &cb) == NULL,
          "otc_session_new with an API key that is not UTF-8");
    CHECK(otc_session_new(e->api_key, "", &cb) == NULL, "otc_session_new with an empty session id");
    CHECK(otc_session_new_with_settings(NULL, e->session_id, &cb, NULL) == NULL,
          "otc_session_new_with_settings(NULL api key)");

    settings = otc_session_settings_new();
    CHECK(settings != NULL, "otc_session_settings_new");
    CHECK_INT(otc_session_settings_set_server_url(NULL, "http://127.0.0.1:1"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_url(NULL settings)");
    CHECK_INT(otc_session_settings_set_server_url(settings, "not a url"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_url with a malformed URL");
    CHECK_INT(otc_session_settings_set_server_url(settings, "http://\xff:80"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_url with invalid UTF-8");
    CHECK_INT(otc_session_settings_set_server_url(settings, ""),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_url with an empty string");
    CHECK_INT(otc_session_settings_set_server_url(settings, "ws://127.0.0.1:4443"), OTC_SUCCESS,
              "set_server_url accepts ws://host:port");
    CHECK_INT(otc_session_settings_set_server_url(settings, NULL), OTC_SUCCESS,
              "set_server_url(NULL) clears the URL");
    {
        const char *good[2] = {"http://127.0.0.1:1", "wss://127.0.0.1:4443"};
        const char *empty[2] = {"http://127.0.0.1:1", ""};
        const char *null_entry[2] = {"http://127.0.0.1:1", NULL};
        const char *not_utf8[1] = {"http://\xff:80"};
        CHECK_INT(otc_session_settings_set_server_urls(settings, good, 2), OTC_SUCCESS,
                  "set_server_urls with two URLs");
        CHECK_INT(otc_session_settings_set_server_urls(settings, empty, 2),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_urls with an empty entry");
        CHECK_INT(otc_session_settings_set_server_urls(settings, null_entry, 2),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_urls with a NULL entry");
        CHECK_INT(otc_session_settings_set_server_urls(settings, not_utf8, 1),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_urls with invalid UTF-8");
        CHECK_INT(otc_session_settings_set_server_urls(settings, NULL, 2),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_urls(NULL urls, count 2)");
        /* The count is checked before any entry is read. */
        CHECK_INT(otc_session_settings_set_server_urls(settings, good, OTC_MAX_SERVER_URLS + 1),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "set_server_urls with more than OTC_MAX_SERVER_URLS");
        CHECK_INT(otc_session_settings_set_server_urls(NULL, good, 2),
                  OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_server_urls(NULL settings)");
        CHECK_INT(otc_session_settings_set_server_urls(settings, NULL, 0), OTC_SUCCESS,
                  "set_server_urls(NULL, 0) clears the list");
    }
    CHECK_INT(otc_session_settings_set_connection_events_suppressed(NULL, OTC_TRUE),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "set_connection_events_suppressed(NULL)");
    CHECK_INT(otc_session_settings_delete(settings), OTC_SUCCESS, "otc_session_settings_delete");
    CHECK_INT(otc_session_settings_delete(NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_session_settings_delete(NULL)");

    CHECK_INT(otc_session_connect(NULL, "token"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_session_connect(NULL session)");
    CHECK_INT(otc_session_disconnect(NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_session_disconnect(NULL)");
    CHECK_INT(otc_session_delete(NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_session_delete(NULL)");
    CHECK_INT(otc_session_send_signal(NULL, "t", "d"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_session_send_signal(NULL session)");
    CHECK_INT(otc_session_send_signal_to_connection(NULL, "t", "d", NULL),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "send_signal_to_connection(NULL session)");
    CHECK(otc_session_get_id(NULL) == NULL, "otc_session_get_id(NULL)");
    CHECK(otc_session_get_connection(NULL) == NULL, "otc_session_get_connection(NULL)");
    CHECK(otc_session_get_user_data(NULL) == NULL, "otc_session_get_user_data(NULL)");
    CHECK_INT(otc_session_get_capabilities(NULL).publish, OTC_FALSE,
              "otc_session_get_capabilities(NULL)");
    CHECK(otc_connection_get_id(NULL) == NULL, "otc_connection_get_id(NULL)");
    CHECK(otc_connection_get_data(NULL) == NULL, "otc_connection_get_data(NULL)");
    CHECK(otc_connection_get_session_id(NULL) == NULL, "otc_connection_get_session_id(NULL)");
    CHECK_INT(otc_connection_get_creation_time(NULL), 0, "otc_connection_get_creation_time(NULL)");
    CHECK(otc_connection_copy(NULL) == NULL, "otc_connection_copy(NULL)");
    CHECK_INT(otc_connection_delete(NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "otc_connection_delete(NULL)");

    /* A session that is not connected yet. */
    s = otc_session_new(e->api_key, e->session_id, &cb);
    CHECK(s != NULL, "otc_session_new with valid arguments");
    if (s != NULL) {
        CHECK_INT(otc_session_send_signal(s, "t", "d"), OTC_SESSION_NOT_CONNECTED,
                  "send before connecting returns OTC_SESSION_NOT_CONNECTED (1010)");
        CHECK_INT(otc_session_disconnect(s), OTC_SESSION_NOT_CONNECTED,
                  "disconnect before connecting returns OTC_SESSION_NOT_CONNECTED (1010)");
        CHECK_INT(otc_session_connect(s, NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "otc_session_connect(NULL token)");
        CHECK_INT(otc_session_connect(s, "\xc3\x28"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "otc_session_connect with a token that is not UTF-8");
        CHECK(otc_session_get_connection(s) == NULL, "no own connection before connecting");
        CHECK_STR(otc_session_get_id(s), e->session_id, "session id before connecting");
        CHECK_INT(otc_session_delete(s), OTC_SUCCESS, "delete a session never connected");
        /* The handle is dead: the library looks handles up, so using it
         * again is refused instead of touching freed memory. */
        CHECK_INT(otc_session_delete(s), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "deleting a deleted session returns OTC_SESSION_NULL_OR_INVALID_PARAMETER");
        CHECK_INT(otc_session_send_signal(s, "t", "d"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "send on a deleted session returns OTC_SESSION_NULL_OR_INVALID_PARAMETER");
        CHECK_INT(otc_session_connect(s, e->token[0]), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
                  "connect on a deleted session returns OTC_SESSION_NULL_OR_INVALID_PARAMETER");
        CHECK(otc_session_get_id(s) == NULL, "otc_session_get_id of a deleted session is NULL");
    }
}

static void test_signal_validation(const struct test_env *e) {
    char *type129 = repeat_char('a', 129);
    char *type128 = repeat_char('a', 128);
    char *data8193 = repeat_char('d', 8193);
    char *data8192 = repeat_char('d', 8192);
    otc_connection *self_copy;
    const char *ids[2];
    uint64_t id_out = 7;
    struct otc_signal_options opts = {OTC_TRUE};
    int before;

    CHECK(client_new(&A, "one", e, NULL), "session for validation tests");
    CHECK(client_connect(&A, e->token[0]), "connects");
    if (!A.connected) goto out;

    CHECK_INT(otc_session_connect(A.session, e->token[0]), OTC_SESSION_ILLEGAL_STATE,
              "connect while connected returns OTC_SESSION_ILLEGAL_STATE (1015)");

    otc_log_set_logger_callback(logger);
    otc_log_enable(OTC_LOG_LEVEL_ALL);
    CHECK_INT(otc_get_log_level(), OTC_LOG_LEVEL_ALL, "otc_get_log_level reports what was set");

    before = logged();
    CHECK_INT(otc_session_send_signal(A.session, type129, "d"), OTC_SESSION_SIGNAL_TYPE_TOO_LONG,
              "129-byte type returns OTC_SESSION_SIGNAL_TYPE_TOO_LONG (1414)");
    CHECK(logged() > before, "a refused call is logged through the logger callback");
    pthread_mutex_lock(&log_lock);
    CHECK(log_mentions_type, "the log message says the type was the problem");
    pthread_mutex_unlock(&log_lock);

    CHECK_INT(otc_session_send_signal(A.session, "t", data8193), OTC_SESSION_SIGNAL_DATA_TOO_LONG,
              "8193-byte data returns OTC_SESSION_SIGNAL_DATA_TOO_LONG (1413)");
    CHECK_INT(otc_session_send_signal(A.session, "a b", "d"), OTC_SESSION_INVALID_SIGNAL_TYPE,
              "space in type returns OTC_SESSION_INVALID_SIGNAL_TYPE (1461)");
    CHECK_INT(otc_session_send_signal(A.session, "a/b", "d"), OTC_SESSION_INVALID_SIGNAL_TYPE,
              "'/' in type returns 1461");
    CHECK_INT(otc_session_send_signal(A.session, "caf\xc3\xa9", "d"), OTC_SESSION_INVALID_SIGNAL_TYPE,
              "non-ASCII letter in type returns 1461");
    CHECK_INT(otc_session_send_signal(A.session, "t", "\xc3\x28"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "data that is not UTF-8 returns OTC_SESSION_NULL_OR_INVALID_PARAMETER (1011)");
    CHECK_INT(otc_session_send_signal(A.session, "\xff", "d"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "type that is not UTF-8 returns 1011");
    CHECK_INT(otc_session_send_signal(A.session, "t", "\xed\xa0\x80"), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "data with an encoded surrogate (not UTF-8) returns 1011");
    CHECK_INT(otc_session_send_signal_with_options(A.session, type129, "d", opts),
              OTC_SESSION_SIGNAL_TYPE_TOO_LONG, "with_options: 1414");
    CHECK_INT(otc_session_send_signal_with_options(A.session, "t", data8193, opts),
              OTC_SESSION_SIGNAL_DATA_TOO_LONG, "with_options: 1413");
    CHECK_INT(otc_session_send_signal_to_connection(A.session, "t", "d", NULL),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "send_signal_to_connection(NULL connection)");
    CHECK_INT(otc_session_send_signal_to_connection_with_options(A.session, "t", "d", NULL, opts),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "send_signal_to_connection_with_options(NULL connection)");

    self_copy = otc_connection_copy(otc_session_get_connection(A.session));
    CHECK(self_copy != NULL, "copy of our own connection");
    if (self_copy != NULL) {
        CHECK_INT(otc_session_send_signal_to_connection(A.session, "a b", "d", self_copy),
                  OTC_SESSION_INVALID_SIGNAL_TYPE, "to_connection: 1461");
        CHECK_INT(otc_session_send_signal_to_connection(A.session, "t", data8193, self_copy),
                  OTC_SESSION_SIGNAL_DATA_TOO_LONG, "to_connection: 1413");
        CHECK_INT(otc_session_send_signal_to_connection_with_options(A.session, type129, "d",
                                                                     self_copy, opts),
                  OTC_SESSION_SIGNAL_TYPE_TOO_LONG, "to_connection_with_options: 1414");
    }

    /* The list extension validates the same way, and the ids too. */
    ids[0] = A.own_id;
    ids[1] = NULL;
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", "d", ids, 2, opts, NULL, NULL,
                                                     &id_out),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "list extension: a NULL id returns 1011");
    ids[1] = "\xff";
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", "d", ids, 2, opts, NULL, NULL,
                                                     &id_out),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "list extension: an id that is not UTF-8");
    ids[1] = "";
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", "d", ids, 2, opts, NULL, NULL,
                                                     &id_out),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "list extension: an empty id");
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "a b", "d", ids, 1, opts, NULL,
                                                     NULL, &id_out),
              OTC_SESSION_INVALID_SIGNAL_TYPE, "list extension: 1461");
    CHECK_INT(otc_session_send_signal_to_connections(A.session, type129, "d", ids, 1, opts, NULL,
                                                     NULL, &id_out),
              OTC_SESSION_SIGNAL_TYPE_TOO_LONG, "list extension: 1414");
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", data8193, ids, 1, opts, NULL,
                                                     NULL, &id_out),
              OTC_SESSION_SIGNAL_DATA_TOO_LONG, "list extension: 1413");
    {
        /* 1001 targets: one more than a signal may name. */
        const char **many = malloc(1001 * sizeof *many);
        size_t k;
        if (many != NULL) {
            for (k = 0; k < 1001; k++) many[k] = A.own_id;
            CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", "d", many, 1001, opts,
                                                             NULL, NULL, &id_out),
                      OTC_SESSION_NULL_OR_INVALID_PARAMETER, "list extension: 1001 targets");
            free(many);
        }
    }
    CHECK(id_out == 7, "a refused signal reports no id");

    /* Nothing refused was queued: exact limits work and are the only
     * signals to arrive. */
    CHECK_INT(otc_session_send_signal(A.session, type128, data8192), OTC_SUCCESS,
              "128-byte type and 8192-byte data accepted");
    CHECK_INT(otc_session_send_signal(A.session, "done", "last"), OTC_SUCCESS, "marker accepted");
    CHECK(client_wait(&A, p_signal_data, "last", WAIT_MS), "marker arrives");
    CHECK_INT(A.nsignals, 2, "refused signals were never sent; the two accepted ones arrived");

    /* Disabled logging: nothing reaches the logger. */
    otc_log_enable(OTC_LOG_LEVEL_DISABLED);
    CHECK_INT(otc_get_log_level(), OTC_LOG_LEVEL_DISABLED, "logging disabled");
    before = logged();
    CHECK_INT(otc_session_send_signal(A.session, type129, "d"), OTC_SESSION_SIGNAL_TYPE_TOO_LONG,
              "still refused with logging off");
    CHECK_INT(logged(), before, "no log message once logging is disabled");
    otc_log_set_logger_callback(NULL);

    /* A disconnected session. */
    CHECK_INT(otc_session_disconnect(A.session), OTC_SUCCESS, "disconnect");
    CHECK(client_wait(&A, p_disconnected, NULL, WAIT_MS), "on_disconnected");
    CHECK_INT(otc_session_send_signal(A.session, "t", "d"), OTC_SESSION_NOT_CONNECTED,
              "send on a disconnected session returns 1010");
    if (self_copy != NULL) {
        CHECK_INT(otc_session_send_signal_to_connection(A.session, "t", "d", self_copy),
                  OTC_SESSION_NOT_CONNECTED, "send_to_connection on a disconnected session: 1010");
    }
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "t", "d", NULL, 0, opts, NULL, NULL,
                                                     NULL),
              OTC_SESSION_NOT_CONNECTED, "list extension on a disconnected session: 1010");
    CHECK_INT(otc_session_disconnect(A.session), OTC_SESSION_NOT_CONNECTED,
              "disconnecting twice returns 1010");
    if (self_copy != NULL) {
        CHECK_STR(otc_connection_get_id(self_copy), A.own_id,
                  "a connection copy stays valid after its session disconnected");
        CHECK_INT(otc_connection_delete(self_copy), OTC_SUCCESS, "delete the copy");
    }
    CHECK_INT(A.errors, 0, "no on_error for refused calls (they return codes)");
out:
    client_free(&A);
    free(type129);
    free(type128);
    free(data8193);
    free(data8192);
}

static void test_after_destroy(const struct test_env *e) {
    struct otc_session_callbacks cb;
    otc_session *kept;
    memset(&cb, 0, sizeof cb);
    kept = otc_session_new(e->api_key, e->session_id, &cb);
    CHECK(kept != NULL, "a session left alive before otc_destroy");
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy (deletes sessions still alive)");
    CHECK(otc_session_new(e->api_key, e->session_id, &cb) == NULL,
          "otc_session_new after otc_destroy returns NULL");
    if (kept != NULL) {
        CHECK_INT(otc_session_send_signal(kept, "t", "d"), OTC_SESSION_ILLEGAL_STATE,
                  "send after otc_destroy returns OTC_SESSION_ILLEGAL_STATE (1015)");
        CHECK_INT(otc_session_connect(kept, e->token[0]), OTC_SESSION_ILLEGAL_STATE,
                  "connect after otc_destroy returns 1015");
        CHECK_INT(otc_session_delete(kept), OTC_SESSION_ILLEGAL_STATE,
                  "delete after otc_destroy returns 1015");
    }
    CHECK_INT(otc_destroy(), OTC_SESSION_ILLEGAL_STATE, "otc_destroy twice returns 1015");

    /* The library can be started again. */
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init after otc_destroy");
    CHECK(client_new(&A, "again", e, NULL), "otc_session_new after re-init");
    CHECK(client_connect(&A, e->token[0]), "connect after re-init");
    client_free(&A);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "final otc_destroy");
}

int main(void) {
    struct test_env e = test_env(1);
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_before_init(&e);
    test_null_and_invalid_arguments(&e);
    test_signal_validation(&e);
    test_after_destroy(&e);
    return finish();
}
