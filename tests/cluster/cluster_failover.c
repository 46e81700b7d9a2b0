/*
 * A three-node otc-server cluster (one Redis) as C programs meet it, run by
 * scripts/cluster-tests.sh: clients spread over the nodes, each given every
 * node's URL (otc_session_settings_set_server_urls) in its own order.
 *
 *  1. a (node 1), b (node 2) and c (node 3) share one session.
 *  2. a and b send each other numbered signals; node 1 is killed with
 *     SIGKILL in the middle. a resumes on another node: b gets every one of
 *     a's signals once and in order, a gets every one of b's, every send is
 *     completed with OTC_SUCCESS, and nobody sees a leave.
 *  3. d, which knows node 3 only, is left without a node when node 3 is
 *     killed: once the reconnect grace has passed the others see it leave;
 *     c (also on node 3) resumed elsewhere and stays.
 *  4. Redis is stopped: a signal fails with OTC_SESSION_NO_MESSAGING_SERVER
 *     through its completion, a new connection is refused with the same
 *     code; Redis comes back (with its append-only file) and signals flow
 *     again, by themselves.
 *
 * Environment (from the script): OTC_TEST_API_KEY, OTC_TEST_SESSION_ID,
 * OTC_TEST_TOKEN_1..5, OTC_TEST_NODE_URL_1..3, OTC_TEST_NODE_PID_1..3,
 * OTC_TEST_GRACE_MS, OTC_TEST_REDIS_CTL (a command taking "stop" or
 * "start").
 */
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "../c/harness.h"

#define NUMBERED 60

static const char *need(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        fprintf(stderr, "set %s (scripts/cluster-tests.sh does)\n", name);
        exit(2);
    }
    return v;
}

/* Completions, counted per outcome. */
struct outcomes {
    pthread_mutex_t lock;
    int ok, failed, last_error;
};

static void on_complete(otc_session *s, void *user_data, uint64_t id, otc_status result,
                        void *completion_data) {
    struct outcomes *o = completion_data;
    (void)s;
    (void)user_data;
    (void)id;
    pthread_mutex_lock(&o->lock);
    if (result == OTC_SUCCESS) {
        o->ok++;
    } else {
        o->failed++;
        o->last_error = (int)result;
    }
    pthread_mutex_unlock(&o->lock);
}

static int reconnections[8];
static void on_reconnected(otc_session *s, void *user_data) {
    struct client *c = user_data;
    (void)s;
    pthread_mutex_lock(&c->lock);
    reconnections[c->name[0] - 'a']++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* A client knowing these nodes (1-based, in this order). */
static int join(struct client *c, const char *name, const char *token, const int *order,
                int n) {
    struct test_env e;
    const char *urls[3];
    char var[32];
    int i, ok;
    struct otc_session_callbacks cb;
    otc_session_settings *settings = otc_session_settings_new();
    for (i = 0; i < n; i++) {
        snprintf(var, sizeof var, "OTC_TEST_NODE_URL_%d", order[i]);
        urls[i] = need(var);
    }
    if (otc_session_settings_set_server_urls(settings, urls, (size_t)n) != OTC_SUCCESS) {
        otc_session_settings_delete(settings);
        return 0;
    }
    e.api_key = need("OTC_TEST_API_KEY");
    e.session_id = need("OTC_TEST_SESSION_ID");
    client_init(c, name);
    cb = client_callbacks(c);
    cb.on_reconnected = on_reconnected;
    c->session = otc_session_new_with_settings(e.api_key, e.session_id, &cb, settings);
    otc_session_settings_delete(settings);
    ok = c->session != NULL && client_connect(c, token);
    return ok;
}

static otc_status send_to(struct client *from, const char *to_id, const char *data,
                          struct outcomes *o) {
    const char *ids[1];
    struct otc_signal_options opts;
    ids[0] = to_id;
    opts.retry_after_reconnect = OTC_TRUE;
    return otc_session_send_signal_to_connections(from->session, "n", data, ids, 1, opts,
                                                   on_complete, o, NULL);
}

/* Received exactly "p-1" .. "p-count", in that order, among its signals. */
static int numbered_in_order(struct client *c, char prefix, int count, int *got) {
    int i, next = 1, ok = 1;
    char want[32];
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->nsignals; i++) {
        const char *d = c->signals[i].data;
        if (d[0] != prefix || d[1] != '-') continue;
        snprintf(want, sizeof want, "%c-%d", prefix, next);
        if (strcmp(d, want) != 0) {
            printf("     %s: got %s where %s was due\n", c->name, d, want);
            ok = 0;
        }
        next++;
    }
    pthread_mutex_unlock(&c->lock);
    *got = next - 1;
    return ok && next - 1 == count;
}

struct numbered_arg {
    char prefix;
    int count;
};
static int p_numbered(struct client *c, const void *arg) {
    const struct numbered_arg *a = arg;
    int i, n = 0;
    for (i = 0; i < c->nsignals; i++) {
        n += c->signals[i].data[0] == a->prefix && c->signals[i].data[1] == '-';
    }
    return n >= a->count;
}

static int completed(struct outcomes *o, int total) {
    int i, done = 0;
    for (i = 0; i < 400 && !done; i++) {
        pthread_mutex_lock(&o->lock);
        done = o->ok + o->failed >= total;
        pthread_mutex_unlock(&o->lock);
        if (!done) sleep_ms(50);
    }
    return done;
}

static void kill_node(int n) {
    char var[32];
    snprintf(var, sizeof var, "OTC_TEST_NODE_PID_%d", n);
    kill((pid_t)atoi(need(var)), SIGKILL);
}

static int redis_ctl(const char *what) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s", need("OTC_TEST_REDIS_CTL"), what);
    return system(cmd) == 0;
}

int main(void) {
    struct client a, b, c, d;
    struct outcomes oa, ob, oc;
    static const int order_a[] = {1, 2, 3}, order_b[] = {2, 3, 1}, order_c[] = {3, 1, 2},
                     order_d[] = {3};
    long grace = atol(need("OTC_TEST_GRACE_MS"));
    int i, got;
    char data[32];
    struct numbered_arg from_a = {'a', NUMBERED}, from_b = {'b', NUMBERED};

    memset(&oa, 0, sizeof oa);
    memset(&ob, 0, sizeof ob);
    memset(&oc, 0, sizeof oc);
    pthread_mutex_init(&oa.lock, NULL);
    pthread_mutex_init(&ob.lock, NULL);
    pthread_mutex_init(&oc.lock, NULL);
    CHECK(otc_init(NULL) == OTC_SUCCESS, "otc_init");
    otc_log_enable(OTC_LOG_LEVEL_WARN);

    /* 1. One session over three nodes. */
    CHECK(join(&a, "a", need("OTC_TEST_TOKEN_1"), order_a, 3), "a connects (node 1)");
    CHECK(join(&b, "b", need("OTC_TEST_TOKEN_2"), order_b, 3), "b connects (node 2)");
    CHECK(join(&c, "c", need("OTC_TEST_TOKEN_3"), order_c, 3), "c connects (node 3)");
    CHECK(client_wait(&a, p_created, b.own_id, 10000) && client_wait(&a, p_created, c.own_id, 10000),
          "a (node 1) sees b and c arrive");
    CHECK(client_wait(&c, p_created, a.own_id, 10000) && client_wait(&c, p_created, b.own_id, 10000),
          "c (node 3) knows a and b");

    /* 2. Numbered signals both ways; node 1 dies in the middle. */
    for (i = 1; i <= NUMBERED; i++) {
        snprintf(data, sizeof data, "a-%d", i);
        CHECK_INT(send_to(&a, b.own_id, data, &oa), OTC_SUCCESS, "a sends");
        snprintf(data, sizeof data, "b-%d", i);
        CHECK_INT(send_to(&b, a.own_id, data, &ob), OTC_SUCCESS, "b sends");
        if (i == NUMBERED / 3) kill_node(1);
        if (i % 10 == 0) sleep_ms(20);
    }
    CHECK(client_wait(&b, p_numbered, &from_a, 30000), "b received a's signals");
    CHECK(client_wait(&a, p_numbered, &from_b, 30000), "a received b's signals");
    CHECK(numbered_in_order(&b, 'a', NUMBERED, &got), "b: a-1..a-60 once each, in order");
    CHECK(numbered_in_order(&a, 'b', NUMBERED, &got), "a: b-1..b-60 once each, in order");
    CHECK(completed(&oa, NUMBERED) && completed(&ob, NUMBERED), "every send completed");
    CHECK_INT(oa.ok, NUMBERED, "a's sends all succeeded");
    CHECK_INT(ob.ok, NUMBERED, "b's sends all succeeded");
    CHECK(reconnections[0] >= 1, "a reconnected (on another node)");
    CHECK(!p_disconnected(&a, NULL), "a was never disconnected");
    CHECK(!p_dropped(&b, a.own_id) && !p_dropped(&c, a.own_id), "nobody saw a leave");

    /* 3. d knows node 3 only; node 3 dies. */
    CHECK(join(&d, "d", need("OTC_TEST_TOKEN_4"), order_d, 1), "d connects (node 3 only)");
    CHECK(client_wait(&a, p_created, d.own_id, 10000), "a sees d arrive");
    kill_node(3);
    CHECK(client_wait(&a, p_dropped, d.own_id, grace + 15000), "a sees d leave after the grace");
    CHECK(client_wait(&b, p_dropped, d.own_id, 5000), "b sees d leave");
    CHECK(client_wait(&c, p_dropped, d.own_id, 5000), "c (resumed elsewhere) sees d leave");
    CHECK(!p_dropped(&a, c.own_id), "c, resumed on another node, did not leave");
    CHECK(reconnections[2] >= 1, "c reconnected");
    snprintf(data, sizeof data, "c-alive");
    CHECK_INT(send_to(&c, a.own_id, data, &oc), OTC_SUCCESS, "c sends");
    CHECK(client_wait(&a, p_signal_data, "c-alive", 10000), "a hears c after node 3 died");

    /* 4. Redis stops, then comes back. */
    CHECK(redis_ctl("stop"), "Redis stopped");
    CHECK_INT(send_to(&a, b.own_id, "during-outage", &oa), OTC_SUCCESS, "a sends during the outage");
    CHECK(completed(&oa, NUMBERED + 1), "that send completed");
    CHECK_INT(oa.last_error, OTC_SESSION_NO_MESSAGING_SERVER,
              "it failed with OTC_SESSION_NO_MESSAGING_SERVER");
    {
        struct client e;
        static const int order_e[] = {2};
        CHECK(!join(&e, "e", need("OTC_TEST_TOKEN_5"), order_e, 1), "a new connection is refused");
        CHECK_INT(e.last_error, OTC_SESSION_NO_MESSAGING_SERVER, "with OTC_SESSION_NO_MESSAGING_SERVER");
        client_free(&e);
    }
    CHECK(redis_ctl("start"), "Redis started again");
    {
        int sent = NUMBERED + 1, ok = 0;
        for (i = 0; i < 100 && !ok; i++) {
            if (send_to(&a, b.own_id, "after-outage", &oa) != OTC_SUCCESS) break;
            sent++;
            completed(&oa, sent);
            pthread_mutex_lock(&oa.lock);
            ok = oa.ok > NUMBERED;
            pthread_mutex_unlock(&oa.lock);
            if (!ok) sleep_ms(200);
        }
        CHECK(ok, "signals flow again once Redis is back");
    }
    CHECK(client_wait(&b, p_signal_data, "after-outage", 10000), "b gets it");
    CHECK_INT(count_signal(&b, "after-outage"), 1, "once");
    CHECK_INT(count_signal(&b, "during-outage"), 0, "the failed one was never delivered");

    client_free(&d);
    client_free(&c);
    client_free(&b);
    client_free(&a);
    otc_destroy();
    return finish();
}
