/*
 * A small test harness for the C tests of libopentok.
 *
 * Each test program includes this file once. It offers
 *   - CHECK / CHECK_INT / CHECK_STR: count a pass or print a failure with
 *     the file, line and values, and carry on (so one run reports every
 *     broken behaviour, not just the first);
 *   - `struct client`: one session with callbacks that record every event
 *     under a mutex, and `client_wait` to wait (with a deadline) until a
 *     predicate over the recorded events holds;
 *   - test_env(): the server, API key, session id and tokens that
 *     scripts/c-tests.sh passes in the environment;
 *   - finish(): prints "N passed, M failed" and gives the exit status.
 *
 * Only the public header <opentok.h> is used, as a user program would.
 */
#ifndef OTC_TEST_HARNESS_H
#define OTC_TEST_HARNESS_H

#include <opentok.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every helper is `static inline` so a test that uses only some of them
 * compiles without unused-function warnings. */
#define H_FN static inline

/* ---- checks -------------------------------------------------------------- */

static int h_passed, h_failed;

H_FN void h_report(int ok, const char *file, int line, const char *what, const char *fmt, ...) {
    if (ok) {
        h_passed++;
        printf("ok   %s\n", what);
    } else {
        va_list ap;
        h_failed++;
        printf("FAIL %s (%s:%d)", what, file, line);
        if (fmt != NULL) {
            printf(": ");
            va_start(ap, fmt);
            vprintf(fmt, ap);
            va_end(ap);
        }
        printf("\n");
    }
    fflush(stdout);
}

#define CHECK(cond, what) h_report((cond) != 0, __FILE__, __LINE__, (what), NULL)

#define CHECK_INT(actual, expected, what)                                                  \
    do {                                                                                   \
        long long h_a_ = (long long)(actual), h_e_ = (long long)(expected);                \
        h_report(h_a_ == h_e_, __FILE__, __LINE__, (what), "got %lld, expected %lld", h_a_, \
                 h_e_);                                                                    \
    } while (0)

#define CHECK_STR(actual, expected, what)                                                     \
    do {                                                                                      \
        const char *h_a_ = (actual), *h_e_ = (expected);                                      \
        h_report(h_a_ != NULL && h_e_ != NULL && strcmp(h_a_, h_e_) == 0, __FILE__, __LINE__, \
                 (what), "got \"%s\", expected \"%s\"", h_a_ ? h_a_ : "(null)",             \
                 h_e_ ? h_e_ : "(null)");                                                     \
    } while (0)

H_FN int finish(void) {
    printf("%d passed, %d failed\n", h_passed, h_failed);
    fflush(stdout);
    return h_failed == 0 && h_passed > 0 ? 0 : 1;
}

/* ---- small utilities ------------------------------------------------------ */

H_FN void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

H_FN char *h_strdup(const char *s) {
    size_t n;
    char *d;
    if (s == NULL) return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d == NULL) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    memcpy(d, s, n);
    return d;
}

/* A string of `n` copies of `c`, NUL-terminated; free() it. */
H_FN char *repeat_char(char c, size_t n) {
    char *s = malloc(n + 1);
    if (s == NULL) abort();
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* What scripts/c-tests.sh hands to each test program. */
struct test_env {
    const char *server_url; /* OTC_SERVER_URL, also read by the library */
    const char *api_key;    /* OTC_TEST_API_KEY */
    const char *session_id; /* OTC_TEST_SESSION_ID */
    const char *token[3];   /* OTC_TEST_TOKEN_1 .. OTC_TEST_TOKEN_3 */
};

/* Reads the environment; exits with status 2 when something is missing. */
H_FN struct test_env test_env(int tokens_needed) {
    struct test_env e;
    int i;
    char name[32];
    e.server_url = getenv("OTC_SERVER_URL");
    e.api_key = getenv("OTC_TEST_API_KEY");
    e.session_id = getenv("OTC_TEST_SESSION_ID");
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "OTC_TEST_TOKEN_%d", i + 1);
        e.token[i] = getenv(name);
    }
    if (e.server_url == NULL || e.api_key == NULL || e.session_id == NULL) {
        fprintf(stderr, "set OTC_SERVER_URL, OTC_TEST_API_KEY and OTC_TEST_SESSION_ID "
                        "(scripts/c-tests.sh does)\n");
        exit(2);
    }
    for (i = 0; i < tokens_needed; i++) {
        if (e.token[i] == NULL) {
            fprintf(stderr, "set OTC_TEST_TOKEN_1..%d\n", tokens_needed);
            exit(2);
        }
    }
    return e;
}

/* ---- a recording client ---------------------------------------------------- */

#define H_MAX_EVENTS 512
#define H_ID_LEN 256

struct rx_signal {
    char *type;
    char *data;
    char from[H_ID_LEN]; /* "" when sent by the server */
    int from_server;
};

struct client {
    const char *name;
    otc_session *session;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* events, as recorded by the callbacks */
    int connected, disconnected, errors, last_error;
    char own_id[H_ID_LEN];
    struct rx_signal signals[H_MAX_EVENTS];
    int nsignals;
    char created[H_MAX_EVENTS][H_ID_LEN];
    int ncreated;
    char dropped[H_MAX_EVENTS][H_ID_LEN];
    int ndropped;
    /* copies (otc_connection_copy) of the connections seen created */
    otc_connection *conns[H_MAX_EVENTS];
    int nconns;
    /* the thread callbacks ran on, and whether it ever was the main thread */
    pthread_t main_thread;
    int callback_on_main_thread;
    int callbacks_seen;
    /* when set, on_signal_received answers every signal from another
     * connection, from inside the callback, with type "echo" */
    int echo;
    int echo_failures;
    /* when set, a signal with this data makes on_signal_received call
     * otc_session_disconnect / otc_session_delete on its own session */
    const char *disconnect_on;
    const char *delete_on;
    int self_call_status;   /* what that call returned */
    int deleted_in_callback;
    int callbacks_at_delete; /* callbacks_seen when it deleted itself */
};

H_FN void h_note_thread(struct client *c) {
    c->callbacks_seen++;
    if (pthread_equal(pthread_self(), c->main_thread)) c->callback_on_main_thread = 1;
}

H_FN void h_on_connected(otc_session *session, void *user_data) {
    struct client *c = user_data;
    const otc_connection *me = otc_session_get_connection(session);
    const char *id = me != NULL ? otc_connection_get_id(me) : NULL;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    c->connected = 1;
    snprintf(c->own_id, sizeof c->own_id, "%s", id != NULL ? id : "");
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

H_FN void h_on_disconnected(otc_session *session, void *user_data) {
    struct client *c = user_data;
    (void)session;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    c->disconnected = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

H_FN void h_on_connection_created(otc_session *session, void *user_data,
                                    const otc_connection *connection) {
    struct client *c = user_data;
    const char *id = otc_connection_get_id(connection);
    otc_connection *copy = otc_connection_copy(connection);
    (void)session;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    if (c->ncreated < H_MAX_EVENTS) {
        snprintf(c->created[c->ncreated++], H_ID_LEN, "%s", id != NULL ? id : "");
    }
    if (copy != NULL && c->nconns < H_MAX_EVENTS) {
        c->conns[c->nconns++] = copy;
        copy = NULL;
    }
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    if (copy != NULL) otc_connection_delete(copy);
}

H_FN void h_on_connection_dropped(otc_session *session, void *user_data,
                                    const otc_connection *connection) {
    struct client *c = user_data;
    const char *id = otc_connection_get_id(connection);
    (void)session;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    if (c->ndropped < H_MAX_EVENTS) {
        snprintf(c->dropped[c->ndropped++], H_ID_LEN, "%s", id != NULL ? id : "");
    }
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

H_FN void h_on_signal_received(otc_session *session, void *user_data, const char *type,
                                 const char *signal, const otc_connection *connection) {
    struct client *c = user_data;
    const char *from = connection != NULL ? otc_connection_get_id(connection) : NULL;
    int answer;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    if (c->nsignals < H_MAX_EVENTS) {
        struct rx_signal *s = &c->signals[c->nsignals++];
        s->type = h_strdup(type != NULL ? type : "(null)");
        s->data = h_strdup(signal != NULL ? signal : "(null)");
        s->from_server = connection == NULL;
        snprintf(s->from, sizeof s->from, "%s", from != NULL ? from : "");
    }
    answer = c->echo && connection != NULL && from != NULL && strcmp(from, c->own_id) != 0 &&
             (type == NULL || strcmp(type, "echo") != 0);
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    /* An API call from inside the callback, as the SDK's echo sample does. */
    if (answer &&
        otc_session_send_signal_to_connection(session, "echo", signal, connection) != OTC_SUCCESS) {
        pthread_mutex_lock(&c->lock);
        c->echo_failures++;
        pthread_mutex_unlock(&c->lock);
    }
    /* Leaving, or deleting our own session, from inside its callback. The
     * library must not wait for this very callback to finish. */
    if (signal != NULL && c->disconnect_on != NULL && strcmp(signal, c->disconnect_on) == 0) {
        int st = otc_session_disconnect(session);
        pthread_mutex_lock(&c->lock);
        c->self_call_status = st;
        pthread_mutex_unlock(&c->lock);
    }
    if (signal != NULL && c->delete_on != NULL && strcmp(signal, c->delete_on) == 0) {
        int st = otc_session_delete(session);
        pthread_mutex_lock(&c->lock);
        c->self_call_status = st;
        c->deleted_in_callback = 1;
        c->callbacks_at_delete = c->callbacks_seen;
        c->session = NULL; /* gone: client_free must not delete it again */
        pthread_cond_broadcast(&c->changed);
        pthread_mutex_unlock(&c->lock);
    }
}

H_FN void h_on_error(otc_session *session, void *user_data, const char *error_string,
                       enum otc_session_error_code error) {
    struct client *c = user_data;
    (void)session;
    pthread_mutex_lock(&c->lock);
    h_note_thread(c);
    c->errors++;
    c->last_error = (int)error;
    printf("     (%s: on_error %d: %s)\n", c->name, (int)error, error_string ? error_string : "");
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

H_FN void client_init(struct client *c, const char *name) {
    memset(c, 0, sizeof *c);
    c->name = name;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    c->main_thread = pthread_self();
}

H_FN struct otc_session_callbacks client_callbacks(struct client *c) {
    struct otc_session_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.on_connected = h_on_connected;
    cb.on_disconnected = h_on_disconnected;
    cb.on_connection_created = h_on_connection_created;
    cb.on_connection_dropped = h_on_connection_dropped;
    cb.on_signal_received = h_on_signal_received;
    cb.on_error = h_on_error;
    cb.user_data = c;
    return cb;
}

/* Creates the session (with `settings` if not NULL). */
H_FN int client_new(struct client *c, const char *name, const struct test_env *e,
                      otc_session_settings *settings) {
    struct otc_session_callbacks cb;
    client_init(c, name);
    cb = client_callbacks(c);
    c->session = settings != NULL
                     ? otc_session_new_with_settings(e->api_key, e->session_id, &cb, settings)
                     : otc_session_new(e->api_key, e->session_id, &cb);
    return c->session != NULL;
}

typedef int (*client_pred)(struct client *c, const void *arg);

/* Waits until pred(c, arg) holds (checked under c->lock) or `ms` pass. */
H_FN int client_wait(struct client *c, client_pred pred, const void *arg, long ms) {
    struct timespec until;
    int ok;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    for (;;) {
        ok = pred(c, arg);
        if (ok) break;
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) == ETIMEDOUT) {
            ok = pred(c, arg);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

H_FN int p_connected(struct client *c, const void *arg) {
    (void)arg;
    return c->connected;
}
H_FN int p_disconnected(struct client *c, const void *arg) {
    (void)arg;
    return c->disconnected;
}
H_FN int p_error(struct client *c, const void *arg) {
    (void)arg;
    return c->errors > 0;
}
H_FN int p_deleted_in_callback(struct client *c, const void *arg) {
    (void)arg;
    return c->deleted_in_callback;
}
H_FN int p_connected_or_error(struct client *c, const void *arg) {
    (void)arg;
    return c->connected || c->errors > 0 || c->disconnected;
}
/* A signal with data equal to the string `arg` was received. */
H_FN int p_signal_data(struct client *c, const void *arg) {
    int i;
    for (i = 0; i < c->nsignals; i++) {
        if (strcmp(c->signals[i].data, (const char *)arg) == 0) return 1;
    }
    return 0;
}
H_FN int p_created(struct client *c, const void *arg) {
    int i;
    for (i = 0; i < c->ncreated; i++) {
        if (strcmp(c->created[i], (const char *)arg) == 0) return 1;
    }
    return 0;
}
H_FN int p_dropped(struct client *c, const void *arg) {
    int i;
    for (i = 0; i < c->ndropped; i++) {
        if (strcmp(c->dropped[i], (const char *)arg) == 0) return 1;
    }
    return 0;
}

/* Index of the first received signal whose data is `data`, or -1. */
H_FN int find_signal(struct client *c, const char *data) {
    int i, found = -1;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->nsignals; i++) {
        if (strcmp(c->signals[i].data, data) == 0) {
            found = i;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* How many received signals have data `data`. */
H_FN int count_signal(struct client *c, const char *data) {
    int i, n = 0;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->nsignals; i++) n += strcmp(c->signals[i].data, data) == 0;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* A copy of the connection with id `id` that `c` saw created, or NULL. The
 * caller deletes it with otc_connection_delete. */
H_FN otc_connection *client_conn(struct client *c, const char *id) {
    int i;
    otc_connection *found = NULL;
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->nconns; i++) {
        const char *cid = otc_connection_get_id(c->conns[i]);
        if (cid != NULL && strcmp(cid, id) == 0) {
            found = otc_connection_copy(c->conns[i]);
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* Connects and waits for on_connected; returns 1 on success. */
H_FN int client_connect(struct client *c, const char *token) {
    if (otc_session_connect(c->session, token) != OTC_SUCCESS) return 0;
    return client_wait(c, p_connected_or_error, NULL, 15000) && c->connected;
}

/* Disconnects (if connected), deletes the session and frees what the client
 * recorded. After otc_session_delete returns no callback may run, so the
 * recorded state is ours alone afterwards. */
H_FN void client_free(struct client *c) {
    int i;
    if (c->session != NULL) {
        int connected, disconnected;
        pthread_mutex_lock(&c->lock);
        connected = c->connected;
        disconnected = c->disconnected;
        pthread_mutex_unlock(&c->lock);
        if (connected && !disconnected) {
            otc_session_disconnect(c->session);
            client_wait(c, p_disconnected, NULL, 5000);
        }
        otc_session_delete(c->session);
        c->session = NULL;
    }
    for (i = 0; i < c->nsignals; i++) {
        free(c->signals[i].type);
        free(c->signals[i].data);
    }
    c->nsignals = 0;
    for (i = 0; i < c->nconns; i++) otc_connection_delete(c->conns[i]);
    c->nconns = 0;
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

#endif
