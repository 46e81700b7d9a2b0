/*
 * Real sessions with three clients in one process, against otc-server:
 *
 *   - connection events: each client sees the others, those present when it
 *     connects and later arrivals; a client with connection events
 *     suppressed sees none; on_connection_dropped when one leaves;
 *   - broadcast reaches everyone, the sender included, exactly once, with the
 *     sender's connection; type and data arrive unchanged (UTF-8, limits);
 *   - a private signal reaches its target only;
 *   - the _with_options variants;
 *   - the extension that sends to a list of ids and reports the outcome to a
 *     completion callback;
 *   - an echo answered with an API call from inside on_signal_received;
 *   - per-sender order;
 *   - callbacks never run on the caller's thread;
 *   - sending after disconnect fails with OTC_SESSION_NOT_CONNECTED.
 *
 * Environment from scripts/c-tests.sh: OTC_SERVER_URL, OTC_TEST_API_KEY,
 * OTC_TEST_SESSION_ID, OTC_TEST_TOKEN_1..3 (tokens with data "name=one",
 * "name=two", "name=three").
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 10000

static struct client A, B, C;

/* ---- completion callback of the list extension ---- */
struct completion {
    pthread_mutex_t lock;
    pthread_cond_t done;
    int calls;
    uint64_t signal_id;
    otc_status result;
    void *data;
    otc_session *session;
};
static struct completion comp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL,
                                 NULL};

static void on_complete(otc_session *session, void *user_data, uint64_t signal_id,
                        otc_status result, void *completion_data) {
    (void)user_data;
    pthread_mutex_lock(&comp.lock);
    comp.calls++;
    comp.signal_id = signal_id;
    comp.result = result;
    comp.data = completion_data;
    comp.session = session;
    pthread_cond_broadcast(&comp.done);
    pthread_mutex_unlock(&comp.lock);
}

/* Waits until the completion callback has run `calls` times in total. */
static int wait_completions(int calls) {
    struct timespec until;
    int ok;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&comp.lock);
    while (comp.calls < calls) {
        if (pthread_cond_timedwait(&comp.done, &comp.lock, &until) == ETIMEDOUT) break;
    }
    ok = comp.calls >= calls;
    pthread_mutex_unlock(&comp.lock);
    return ok;
}

/* Has `c` received `n` or more signals? */
static int p_nsignals(struct client *c, const void *arg) {
    return c->nsignals >= *(const int *)arg;
}

static void test_connection_events(const struct test_env *e) {
    otc_session_settings *quiet;
    otc_connection *conn;

    CHECK(client_new(&A, "one", e, NULL), "otc_session_new");
    CHECK(client_connect(&A, e->token[0]), "first client connects");
    CHECK(A.own_id[0] != '\0', "on_connected: otc_session_get_connection gives our id");
    CHECK_STR(otc_session_get_id(A.session), e->session_id, "otc_session_get_id");
    CHECK(otc_session_get_user_data(A.session) == &A, "otc_session_get_user_data");
    CHECK_INT(otc_session_get_capabilities(A.session).publish, OTC_FALSE,
              "capabilities: no publishing in a signaling-only library");

    CHECK(client_new(&B, "two", e, NULL), "second session");
    CHECK(client_connect(&B, e->token[1]), "second client connects");
    CHECK(strcmp(A.own_id, B.own_id) != 0, "two connections have different ids");
    CHECK(client_wait(&A, p_created, B.own_id, WAIT_MS),
          "on_connection_created for a later arrival");
    CHECK(client_wait(&B, p_created, A.own_id, WAIT_MS),
          "on_connection_created for a connection present at connect");

    quiet = otc_session_settings_new();
    CHECK(quiet != NULL, "otc_session_settings_new");
    CHECK_INT(otc_session_settings_set_connection_events_suppressed(quiet, OTC_TRUE), OTC_SUCCESS,
              "suppress connection events");
    CHECK(client_new(&C, "three", e, quiet), "otc_session_new_with_settings");
    CHECK_INT(otc_session_settings_delete(quiet), OTC_SUCCESS,
              "settings may be deleted once the session has its copy");
    CHECK(client_connect(&C, e->token[2]), "third client (events suppressed) connects");

    /* Details of a connection seen through a callback, via our copy. */
    conn = client_conn(&A, B.own_id);
    CHECK(conn != NULL, "otc_connection_copy of a created connection");
    if (conn != NULL) {
        CHECK_STR(otc_connection_get_id(conn), B.own_id, "otc_connection_get_id");
        CHECK_STR(otc_connection_get_data(conn), "name=two", "otc_connection_get_data = token data");
        CHECK_STR(otc_connection_get_session_id(conn), e->session_id,
                  "otc_connection_get_session_id");
        CHECK(otc_connection_get_creation_time(conn) > 1600000000000LL,
              "otc_connection_get_creation_time in ms since the epoch");
        CHECK_INT(otc_connection_delete(conn), OTC_SUCCESS, "otc_connection_delete of a copy");
    }
    {
        const otc_connection *me = otc_session_get_connection(A.session);
        CHECK_STR(me != NULL ? otc_connection_get_data(me) : NULL, "name=one",
                  "own connection carries our token data");
    }
}

static void test_broadcast(void) {
    char *max_data = repeat_char('x', 8192);
    char *max_type = repeat_char('T', 128);
    int i, n;

    CHECK_INT(otc_session_send_signal(A.session, "greeting", "hello from one"), OTC_SUCCESS,
              "broadcast accepted");
    CHECK(client_wait(&A, p_signal_data, "hello from one", WAIT_MS), "broadcast reaches its sender");
    CHECK(client_wait(&B, p_signal_data, "hello from one", WAIT_MS), "broadcast reaches another");
    CHECK(client_wait(&C, p_signal_data, "hello from one", WAIT_MS),
          "broadcast reaches a client with events suppressed");
    i = find_signal(&B, "hello from one");
    if (i >= 0) {
        CHECK_STR(B.signals[i].type, "greeting", "signal type arrives");
        CHECK_STR(B.signals[i].from, A.own_id, "signal carries the sender's connection");
        CHECK(!B.signals[i].from_server, "a client's signal has a connection");
    }
    i = find_signal(&A, "hello from one");
    if (i >= 0) CHECK_STR(A.signals[i].from, A.own_id, "own broadcast carries our own id");

    /* UTF-8, limits, NULL meaning "". */
    CHECK_INT(otc_session_send_signal(B.session, "utf8", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"),
              OTC_SUCCESS, "UTF-8 data accepted");
    CHECK(client_wait(&A, p_signal_data, "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80", WAIT_MS),
          "UTF-8 data arrives unchanged");
    CHECK_INT(otc_session_send_signal(B.session, max_type, max_data), OTC_SUCCESS,
              "128-byte type and 8192-byte data accepted");
    CHECK(client_wait(&A, p_signal_data, max_data, WAIT_MS), "maximal signal arrives");
    i = find_signal(&A, max_data);
    if (i >= 0) CHECK_STR(A.signals[i].type, max_type, "128-byte type arrives unchanged");
    CHECK_INT(otc_session_send_signal(B.session, "A-Za-z0-9_~", "all type characters"),
              OTC_SUCCESS, "every allowed type character accepted");
    CHECK(client_wait(&A, p_signal_data, "all type characters", WAIT_MS),
          "signal with every type character arrives");
    CHECK_INT(otc_session_send_signal(B.session, NULL, NULL), OTC_SUCCESS,
              "NULL type and data mean empty strings");
    CHECK(client_wait(&A, p_signal_data, "", WAIT_MS), "empty signal arrives");
    i = find_signal(&A, "");
    if (i >= 0) CHECK_STR(A.signals[i].type, "", "empty type arrives as \"\"");

    /* Exactly once: a barrier after which the first broadcast cannot still
     * be in flight (signals from one sender arrive in order). */
    CHECK_INT(otc_session_send_signal(A.session, "barrier", "barrier-1"), OTC_SUCCESS, "barrier");
    CHECK(client_wait(&B, p_signal_data, "barrier-1", WAIT_MS), "barrier reached two");
    CHECK(client_wait(&C, p_signal_data, "barrier-1", WAIT_MS), "barrier reached three");
    CHECK(client_wait(&A, p_signal_data, "barrier-1", WAIT_MS), "barrier reached one");
    CHECK_INT(count_signal(&A, "hello from one"), 1, "sender got its broadcast exactly once");
    CHECK_INT(count_signal(&B, "hello from one"), 1, "receiver got the broadcast exactly once");

    /* Order from one sender. */
    for (n = 0; n < 50; n++) {
        char data[32];
        snprintf(data, sizeof data, "seq-%02d", n);
        if (otc_session_send_signal(A.session, "seq", data) != OTC_SUCCESS) break;
    }
    CHECK_INT(n, 50, "50 broadcasts accepted");
    CHECK(client_wait(&B, p_signal_data, "seq-49", WAIT_MS), "the last of 50 arrives");
    {
        int prev = -1, in_order = 1, seen = 0;
        pthread_mutex_lock(&B.lock);
        for (i = 0; i < B.nsignals; i++) {
            int k;
            if (sscanf(B.signals[i].data, "seq-%d", &k) == 1) {
                if (k != prev + 1) in_order = 0;
                prev = k;
                seen++;
            }
        }
        pthread_mutex_unlock(&B.lock);
        CHECK(in_order && seen == 50, "50 signals from one sender arrive once each, in order");
    }
    free(max_data);
    free(max_type);
}

static void test_private(void) {
    otc_connection *to_b = client_conn(&A, B.own_id);
    struct otc_signal_options opts;
    CHECK(to_b != NULL, "first client kept a copy of the second's connection");
    if (to_b == NULL) return;
    CHECK_INT(otc_session_send_signal_to_connection(A.session, "dm", "for two only", to_b),
              OTC_SUCCESS, "private signal accepted");
    CHECK(client_wait(&B, p_signal_data, "for two only", WAIT_MS), "private signal reaches its target");
    {
        int i = find_signal(&B, "for two only");
        if (i >= 0) CHECK_STR(B.signals[i].from, A.own_id, "private signal carries the sender");
    }
    opts.retry_after_reconnect = OTC_FALSE;
    CHECK_INT(otc_session_send_signal_to_connection_with_options(A.session, "dm", "private with options",
                                                                 to_b, opts),
              OTC_SUCCESS, "send_signal_to_connection_with_options accepted");
    CHECK(client_wait(&B, p_signal_data, "private with options", WAIT_MS),
          "private signal with options arrives");
    opts.retry_after_reconnect = OTC_TRUE;
    CHECK_INT(otc_session_send_signal_with_options(A.session, "all", "broadcast with options", opts),
              OTC_SUCCESS, "send_signal_with_options accepted");
    CHECK(client_wait(&C, p_signal_data, "broadcast with options", WAIT_MS),
          "broadcast with options arrives");

    /* Barrier, then nobody else has the private ones. */
    CHECK_INT(otc_session_send_signal(A.session, "barrier", "barrier-2"), OTC_SUCCESS, "barrier 2");
    CHECK(client_wait(&A, p_signal_data, "barrier-2", WAIT_MS) &&
              client_wait(&C, p_signal_data, "barrier-2", WAIT_MS) &&
              client_wait(&B, p_signal_data, "barrier-2", WAIT_MS),
          "barrier 2 reached everyone");
    CHECK_INT(count_signal(&A, "for two only") + count_signal(&C, "for two only"), 0,
              "a private signal reaches nobody but its target (not even its sender)");
    CHECK_INT(count_signal(&C, "private with options"), 0, "private with options stays private");
    CHECK_INT(count_signal(&B, "for two only"), 1, "the target got it exactly once");
    otc_connection_delete(to_b);
}

static void test_list_extension(void) {
    const char *ids[2];
    const char *bogus[2];
    uint64_t id_out = 0, id_out2 = 0;
    int marker = 42;

    ids[0] = B.own_id;
    ids[1] = C.own_id;
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "multi", "to two and three", ids, 2,
                                                     (struct otc_signal_options){OTC_TRUE},
                                                     on_complete, &marker, &id_out),
              OTC_SUCCESS, "send to a list of connections accepted");
    CHECK(id_out != 0, "the call reports the signal's id");
    CHECK(client_wait(&B, p_signal_data, "to two and three", WAIT_MS), "list signal reaches two");
    CHECK(client_wait(&C, p_signal_data, "to two and three", WAIT_MS), "list signal reaches three");
    CHECK(wait_completions(1), "completion callback called");
    pthread_mutex_lock(&comp.lock);
    CHECK_INT(comp.result, OTC_SUCCESS, "completion reports success");
    CHECK(comp.signal_id == id_out, "completion carries the same signal id");
    CHECK(comp.data == &marker, "completion carries completion_data");
    CHECK(comp.session == A.session, "completion names the session");
    pthread_mutex_unlock(&comp.lock);

    /* A target that is not in the session: the server refuses the signal
     * as a whole (all-or-nothing, like its REST API), and says so. */
    bogus[0] = B.own_id;
    bogus[1] = "no-such-connection";
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "multi", "one target missing", bogus,
                                                     2, (struct otc_signal_options){OTC_TRUE},
                                                     on_complete, &marker, &id_out2),
              OTC_SUCCESS, "send to a list with an unknown id accepted");
    CHECK(id_out2 != 0 && id_out2 != id_out, "each signal has its own id");
    CHECK(wait_completions(2), "completion callback called for the second signal");
    pthread_mutex_lock(&comp.lock);
    CHECK_INT(comp.result, OTC_SIGNAL_TARGET_NOT_CONNECTED,
              "completion reports OTC_SIGNAL_TARGET_NOT_CONNECTED (1600)");
    CHECK(comp.signal_id == id_out2, "the failure names the second signal");
    pthread_mutex_unlock(&comp.lock);

    /* NULL list: the whole session, sender included; no callback wanted. */
    CHECK_INT(otc_session_send_signal_to_connections(A.session, "multi", "list broadcast", NULL, 0,
                                                     (struct otc_signal_options){OTC_TRUE}, NULL,
                                                     NULL, NULL),
              OTC_SUCCESS, "NULL list means the whole session");
    CHECK(client_wait(&A, p_signal_data, "list broadcast", WAIT_MS) &&
              client_wait(&B, p_signal_data, "list broadcast", WAIT_MS) &&
              client_wait(&C, p_signal_data, "list broadcast", WAIT_MS),
          "list broadcast reaches everyone, the sender included");

    /* Barrier; then check nothing leaked to the sender. */
    CHECK_INT(otc_session_send_signal(A.session, "barrier", "barrier-3"), OTC_SUCCESS, "barrier 3");
    CHECK(client_wait(&A, p_signal_data, "barrier-3", WAIT_MS), "barrier 3 reached one");
    CHECK_INT(count_signal(&A, "to two and three"), 0, "a list signal does not reach the sender");
    CHECK(client_wait(&B, p_signal_data, "barrier-3", WAIT_MS), "barrier 3 reached two");
    CHECK_INT(count_signal(&B, "one target missing"), 0,
              "a refused list signal reaches none of its targets");
    pthread_mutex_lock(&comp.lock);
    CHECK_INT(comp.calls, 2, "one completion per signal that asked for one");
    pthread_mutex_unlock(&comp.lock);
}

static void test_echo_from_callback(void) {
    otc_connection *to_b = client_conn(&A, B.own_id);
    int i;
    pthread_mutex_lock(&B.lock);
    B.echo = 1;
    pthread_mutex_unlock(&B.lock);
    CHECK(to_b != NULL, "connection copy for the echo test");
    if (to_b == NULL) return;
    for (i = 0; i < 5; i++) {
        char data[32];
        snprintf(data, sizeof data, "ping-%d", i);
        CHECK_INT(otc_session_send_signal_to_connection(A.session, "ping", data, to_b), OTC_SUCCESS,
                  "ping sent");
    }
    CHECK(client_wait(&A, p_signal_data, "ping-4", WAIT_MS),
          "answers sent from inside on_signal_received arrive");
    i = find_signal(&A, "ping-0");
    if (i >= 0) {
        CHECK_STR(A.signals[i].type, "echo", "echo has the type set by the callback");
        CHECK_STR(A.signals[i].from, B.own_id, "echo comes from the echoing client");
    }
    CHECK_INT(B.echo_failures, 0, "every send from inside the callback succeeded");
    pthread_mutex_lock(&B.lock);
    B.echo = 0;
    pthread_mutex_unlock(&B.lock);
    otc_connection_delete(to_b);
}

static void test_leaving(void) {
    int before;
    CHECK_INT(otc_session_disconnect(B.session), OTC_SUCCESS, "disconnect accepted");
    CHECK(client_wait(&B, p_disconnected, NULL, WAIT_MS), "on_disconnected follows disconnect");
    CHECK(client_wait(&A, p_dropped, B.own_id, WAIT_MS),
          "on_connection_dropped when another leaves");
    CHECK_INT(otc_session_send_signal(B.session, "late", "after leaving"), OTC_SESSION_NOT_CONNECTED,
              "send after disconnect returns OTC_SESSION_NOT_CONNECTED (1010)");
    CHECK(otc_session_get_connection(B.session) == NULL,
          "no own connection once disconnected");

    /* The suppressed client saw no connection event at all. Barrier first:
     * events of one session arrive in order. */
    CHECK_INT(otc_session_send_signal(A.session, "barrier", "barrier-4"), OTC_SUCCESS, "barrier 4");
    CHECK(client_wait(&C, p_signal_data, "barrier-4", WAIT_MS), "barrier 4 reached three");
    before = C.ncreated + C.ndropped;
    CHECK_INT(before, 0, "suppressed client: no connection created/dropped events");
    CHECK_INT(count_signal(&B, "barrier-4"), 0, "a disconnected client receives nothing");

    CHECK(!A.callback_on_main_thread && !B.callback_on_main_thread && !C.callback_on_main_thread,
          "callbacks never run on the caller's thread");
    CHECK(A.callbacks_seen > 0 && B.callbacks_seen > 0 && C.callbacks_seen > 0,
          "every client got callbacks");
    CHECK_INT(A.errors + B.errors + C.errors, 0, "no on_error during normal operation");
}

int main(void) {
    struct test_env e = test_env(3);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (otc_init(NULL) != OTC_SUCCESS) {
        printf("FAIL otc_init\n");
        return finish() | 1;
    }
    test_connection_events(&e);
    if (A.connected && B.connected && C.connected) {
        test_broadcast();
        test_private();
        test_list_extension();
        test_echo_from_callback();
        test_leaving();
    } else {
        CHECK(0, "all three clients connected; the remaining tests were skipped");
    }
    client_free(&A);
    client_free(&B);
    client_free(&C);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");
    return finish();
}
