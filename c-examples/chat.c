/*
 * chat -- a terminal chat room on top of libopentok's signaling API.
 *
 * Every line typed on stdin is broadcast to the session as a signal of type
 * "chat"; everything received is printed as
 *
 *     [<sender connection id, or "server">] <type>: <data>
 *
 * A broadcast also reaches its sender, so our own lines come back too; they
 * are printed with "(own)" after the id. Commands:
 *
 *     /to <connection-id> <text>   private signal to one connection
 *     /who                         list the other connections
 *     /wait-peers N [SECONDS]      wait until exactly N other connections are present
 *     /wait-signals N [SECONDS]    wait until N signals from others arrived
 *     /sleep MILLISECONDS          pause (for scripted input)
 *     /quit                        leave
 *
 * The /wait and /sleep commands exist so a script can drive two clients
 * deterministically (see scripts/demo.sh). At end of input the program waits
 * --linger milliseconds for late signals, disconnects and frees everything.
 *
 * Usage: chat [options] API_KEY SESSION_ID TOKEN
 *   (or the environment variables OTC_API_KEY, OTC_SESSION_ID, OTC_TOKEN)
 * Options:
 *   --server URL      server base URL (else $OTC_SERVER_URL, else the default)
 *   --id-file PATH    write our connection id to PATH once connected
 *   --linger MS       wait this long at end of input (default 1000)
 *   --timeout SECONDS give up connecting after this long (default 15)
 *   --log LEVEL       library log level (0 off, 1 error ... 4 debug; default: quiet)
 *
 * Exit status: 0 when connected, every command succeeded and the session
 * ended normally; 1 otherwise.
 *
 * Threads: the library calls our callbacks on its own thread while the main
 * thread reads stdin, so the shared state below is guarded by one mutex and
 * a condition variable wakes the main thread when something it waits for
 * happens. We never call into the library while holding our mutex, so a
 * callback can never wait for us while we wait for it.
 */
#define _POSIX_C_SOURCE 200809L

#include <opentok.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One other participant, kept from on_connection_created to
 * on_connection_dropped. `conn` is our own copy (otc_connection_copy): the
 * pointer handed to a callback is only valid during that callback. */
struct peer {
    otc_connection *conn;
    char *id;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int connected;
    int disconnected;
    int failed; /* an error before we were connected */
    char *own_id;
    struct peer *peers;
    size_t npeers, cap;
    unsigned long signals_from_others;
    const char *id_file;
} g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0, 0, 0, NULL};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

static void sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Deadline `seconds` from now, for pthread_cond_timedwait (CLOCK_REALTIME). */
static struct timespec deadline_in(double seconds) {
    struct timespec ts;
    long whole = (long)seconds;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += whole;
    ts.tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- callbacks (library thread) ---------------------------------------- */

static void on_connected(otc_session *session, void *user_data) {
    const otc_connection *me = otc_session_get_connection(session);
    const char *id = me != NULL ? otc_connection_get_id(me) : NULL;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    free(g.own_id);
    g.own_id = dup_str(id != NULL ? id : "?");
    g.connected = 1;
    printf("* connected as %s\n", g.own_id);
    if (g.id_file != NULL) {
        FILE *f = fopen(g.id_file, "w");
        if (f != NULL) {
            fprintf(f, "%s\n", g.own_id);
            fclose(f);
        } else {
            fprintf(stderr, "chat: cannot write %s\n", g.id_file);
        }
    }
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

static void on_disconnected(otc_session *session, void *user_data) {
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    g.disconnected = 1;
    printf("* disconnected\n");
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

static void on_connection_created(otc_session *session, void *user_data,
                                  const otc_connection *connection) {
    otc_connection *copy = otc_connection_copy(connection);
    const char *id = copy != NULL ? otc_connection_get_id(copy) : NULL;
    const char *data = copy != NULL ? otc_connection_get_data(copy) : NULL;
    (void)session;
    (void)user_data;
    if (id == NULL) {
        fprintf(stderr, "chat: could not keep a new connection\n");
        if (copy != NULL) otc_connection_delete(copy);
        return;
    }
    pthread_mutex_lock(&g.lock);
    if (g.npeers == g.cap) {
        size_t cap = g.cap ? g.cap * 2 : 8;
        struct peer *p = realloc(g.peers, cap * sizeof *p);
        if (p == NULL) {
            pthread_mutex_unlock(&g.lock);
            fprintf(stderr, "chat: out of memory\n");
            otc_connection_delete(copy);
            return;
        }
        g.peers = p;
        g.cap = cap;
    }
    g.peers[g.npeers].conn = copy;
    g.peers[g.npeers].id = dup_str(id);
    g.npeers++;
    printf("* connection created: %s%s%s\n", id, data != NULL && *data ? " data=" : "",
           data != NULL ? data : "");
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

static void on_connection_dropped(otc_session *session, void *user_data,
                                  const otc_connection *connection) {
    const char *id = otc_connection_get_id(connection);
    otc_connection *gone = NULL;
    char *gone_id = NULL;
    size_t i;
    (void)session;
    (void)user_data;
    if (id == NULL) return;
    pthread_mutex_lock(&g.lock);
    for (i = 0; i < g.npeers; i++) {
        if (strcmp(g.peers[i].id, id) == 0) {
            gone = g.peers[i].conn;
            gone_id = g.peers[i].id;
            g.peers[i] = g.peers[g.npeers - 1];
            g.npeers--;
            break;
        }
    }
    printf("* connection dropped: %s\n", id);
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
    free(gone_id);
    if (gone != NULL) otc_connection_delete(gone);
}

static void on_signal_received(otc_session *session, void *user_data, const char *type,
                               const char *signal, const otc_connection *connection) {
    const char *from = connection != NULL ? otc_connection_get_id(connection) : NULL;
    int own;
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    own = from != NULL && g.own_id != NULL && strcmp(from, g.own_id) == 0;
    printf("[%s%s] %s: %s\n", connection == NULL ? "server" : (from != NULL ? from : "?"),
           own ? " (own)" : "", type != NULL ? type : "", signal != NULL ? signal : "");
    if (!own) g.signals_from_others++;
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

static void on_error(otc_session *session, void *user_data, const char *error_string,
                     enum otc_session_error_code error) {
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    printf("! error %d: %s\n", (int)error, error_string != NULL ? error_string : "");
    if (!g.connected) g.failed = 1;
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

/* ---- commands (main thread) -------------------------------------------- */

/* Waits until exactly `want` peers are present (npeers given) or at least
 * `want` signals arrived (nsignals given), the session ends, or `seconds`
 * pass. Exactly, for peers, so that `/wait-peers 0` waits for the others to
 * leave. */
static int wait_count(const size_t *npeers, const unsigned long *nsignals, unsigned long want,
                      double seconds) {
    struct timespec until = deadline_in(seconds);
    int ok = 0;
    pthread_mutex_lock(&g.lock);
    for (;;) {
        int done = npeers != NULL ? (unsigned long)*npeers == want : *nsignals >= want;
        if (done) {
            ok = 1;
            break;
        }
        if (g.disconnected) break;
        if (pthread_cond_timedwait(&g.changed, &g.lock, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&g.lock);
    return ok;
}

static int send_private(otc_session *session, const char *rest) {
    char id[512];
    const char *text;
    otc_connection *target = NULL;
    size_t n = strcspn(rest, " ");
    size_t i;
    otc_status st;

    if (n == 0 || n >= sizeof id) {
        printf("! usage: /to <connection-id> <text>\n");
        return 0;
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    text = rest[n] == ' ' ? rest + n + 1 : "";

    pthread_mutex_lock(&g.lock);
    for (i = 0; i < g.npeers; i++) {
        if (strcmp(g.peers[i].id, id) == 0) {
            /* A copy of our own, so the peer may drop (and its entry be
             * freed by the callback thread) while we send. */
            target = otc_connection_copy(g.peers[i].conn);
            break;
        }
    }
    pthread_mutex_unlock(&g.lock);
    if (target == NULL) {
        printf("! no connection %s in this session (see /who)\n", id);
        return 0;
    }
    st = otc_session_send_signal_to_connection(session, "chat", text, target);
    otc_connection_delete(target);
    if (st != OTC_SUCCESS) {
        printf("! private signal to %s failed: error %d\n", id, (int)st);
        return 0;
    }
    return 1;
}

static void list_peers(void) {
    size_t i;
    pthread_mutex_lock(&g.lock);
    printf("* %lu other connection(s)\n", (unsigned long)g.npeers);
    for (i = 0; i < g.npeers; i++) printf("*   %s\n", g.peers[i].id);
    pthread_mutex_unlock(&g.lock);
}

/* Parses "N [SECONDS]"; returns 0 on a malformed argument. */
static int parse_wait(const char *arg, unsigned long *n, double *seconds) {
    char *end;
    *n = strtoul(arg, &end, 10);
    if (end == arg) return 0;
    *seconds = 10.0;
    if (*end == ' ') {
        char *end2;
        double s = strtod(end + 1, &end2);
        if (end2 == end + 1 || s < 0 || s > 3600) return 0;
        *seconds = s;
    }
    return 1;
}

/* Runs one input line; returns 0 on failure, and sets *quit on /quit. */
static int run_line(otc_session *session, const char *line, int *quit) {
    unsigned long n;
    double seconds;
    otc_status st;

    if (strcmp(line, "/quit") == 0) {
        *quit = 1;
        return 1;
    }
    if (strncmp(line, "/to ", 4) == 0) return send_private(session, line + 4);
    if (strcmp(line, "/who") == 0) {
        list_peers();
        return 1;
    }
    if (strncmp(line, "/wait-peers ", 12) == 0) {
        if (!parse_wait(line + 12, &n, &seconds)) {
            printf("! usage: /wait-peers N [SECONDS]\n");
            return 0;
        }
        if (!wait_count(&g.npeers, NULL, n, seconds)) {
            printf("! timed out waiting for exactly %lu other connection(s)\n", n);
            return 0;
        }
        return 1;
    }
    if (strncmp(line, "/wait-signals ", 14) == 0) {
        if (!parse_wait(line + 14, &n, &seconds)) {
            printf("! usage: /wait-signals N [SECONDS]\n");
            return 0;
        }
        if (!wait_count(NULL, &g.signals_from_others, n, seconds)) {
            printf("! timed out waiting for %lu signal(s) from others\n", n);
            return 0;
        }
        return 1;
    }
    if (strncmp(line, "/sleep ", 7) == 0) {
        long ms = strtol(line + 7, NULL, 10);
        if (ms > 0 && ms <= 600000) sleep_ms(ms);
        return 1;
    }
    if (line[0] == '/') {
        printf("! unknown command: %s\n", line);
        return 0;
    }
    st = otc_session_send_signal(session, "chat", line);
    if (st != OTC_SUCCESS) {
        printf("! broadcast failed: error %d\n", (int)st);
        return 0;
    }
    return 1;
}

static void usage(void) {
    fprintf(stderr,
            "usage: chat [--server URL] [--id-file PATH] [--linger MS] [--timeout SECONDS]\n"
            "            [--log LEVEL] API_KEY SESSION_ID TOKEN\n"
            "  (API_KEY, SESSION_ID and TOKEN may instead come from OTC_API_KEY,\n"
            "   OTC_SESSION_ID and OTC_TOKEN; the server from OTC_SERVER_URL)\n");
}

int main(int argc, char **argv) {
    const char *server = NULL, *api_key, *session_id, *token;
    const char *positional[3] = {NULL, NULL, NULL};
    long linger_ms = 1000;
    double timeout_s = 15;
    int log_level = -1, npos = 0, i, ok = 1, quit = 0;
    struct otc_session_callbacks callbacks;
    otc_session_settings *settings = NULL;
    otc_session *session = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    struct timespec until;

    setvbuf(stdout, NULL, _IOLBF, 0);

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        } else if (i + 1 < argc && strcmp(a, "--server") == 0) {
            server = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--id-file") == 0) {
            g.id_file = argv[++i];
        } else if (i + 1 < argc && strcmp(a, "--linger") == 0) {
            linger_ms = strtol(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(a, "--timeout") == 0) {
            timeout_s = strtod(argv[++i], NULL);
        } else if (i + 1 < argc && strcmp(a, "--log") == 0) {
            log_level = (int)strtol(argv[++i], NULL, 10);
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "chat: unknown option %s\n", a);
            usage();
            return 2;
        } else if (npos < 3) {
            positional[npos++] = a;
        } else {
            usage();
            return 2;
        }
    }
    api_key = positional[0] != NULL ? positional[0] : getenv("OTC_API_KEY");
    session_id = positional[1] != NULL ? positional[1] : getenv("OTC_SESSION_ID");
    token = positional[2] != NULL ? positional[2] : getenv("OTC_TOKEN");
    if (api_key == NULL || session_id == NULL || token == NULL) {
        usage();
        return 2;
    }
    if (linger_ms < 0 || linger_ms > 600000) linger_ms = 1000;
    if (!(timeout_s > 0 && timeout_s <= 3600)) timeout_s = 15;

    if (otc_init(NULL) != OTC_SUCCESS) {
        fprintf(stderr, "chat: otc_init failed\n");
        return 1;
    }
    if (log_level >= 0) otc_log_enable((enum otc_log_level)log_level);

    memset(&callbacks, 0, sizeof callbacks);
    callbacks.on_connected = on_connected;
    callbacks.on_disconnected = on_disconnected;
    callbacks.on_connection_created = on_connection_created;
    callbacks.on_connection_dropped = on_connection_dropped;
    callbacks.on_signal_received = on_signal_received;
    callbacks.on_error = on_error;

    if (server != NULL) {
        settings = otc_session_settings_new();
        if (settings == NULL ||
            otc_session_settings_set_server_url(settings, server) != OTC_SUCCESS) {
            fprintf(stderr, "chat: invalid server URL %s\n", server);
            ok = 0;
            goto out;
        }
        session = otc_session_new_with_settings(api_key, session_id, &callbacks, settings);
    } else {
        session = otc_session_new(api_key, session_id, &callbacks);
    }
    if (session == NULL) {
        fprintf(stderr, "chat: could not create the session (bad API key or session id?)\n");
        ok = 0;
        goto out;
    }
    if (otc_session_connect(session, token) != OTC_SUCCESS) {
        fprintf(stderr, "chat: could not start connecting\n");
        ok = 0;
        goto out;
    }

    /* Wait for on_connected (or a failure) before reading any input. */
    until = deadline_in(timeout_s);
    pthread_mutex_lock(&g.lock);
    while (!g.connected && !g.failed && !g.disconnected) {
        if (pthread_cond_timedwait(&g.changed, &g.lock, &until) == ETIMEDOUT) break;
    }
    if (!g.connected) {
        printf("! could not connect%s\n", g.failed ? "" : " (timed out)");
        ok = 0;
    }
    pthread_mutex_unlock(&g.lock);

    while (ok && !quit && getline(&line, &line_cap, stdin) != -1) {
        size_t len = strlen(line);
        int gone;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if (!run_line(session, line, &quit)) ok = 0;
        pthread_mutex_lock(&g.lock);
        gone = g.disconnected;
        pthread_mutex_unlock(&g.lock);
        if (gone) {
            printf("! the session ended\n");
            ok = 0;
        }
    }

    if (g.connected) {
        int was_disconnected;
        if (!quit) sleep_ms(linger_ms); /* late signals at end of input */
        pthread_mutex_lock(&g.lock);
        was_disconnected = g.disconnected;
        pthread_mutex_unlock(&g.lock);
        if (!was_disconnected) {
            if (otc_session_disconnect(session) != OTC_SUCCESS) ok = 0;
            until = deadline_in(5);
            pthread_mutex_lock(&g.lock);
            while (!g.disconnected) {
                if (pthread_cond_timedwait(&g.changed, &g.lock, &until) == ETIMEDOUT) break;
            }
            if (!g.disconnected) {
                printf("! no on_disconnected within 5 s\n");
                ok = 0;
            }
            pthread_mutex_unlock(&g.lock);
        }
    }

out:
    /* After otc_session_delete returns no callback runs, so the state below
     * is ours alone. */
    if (session != NULL) otc_session_delete(session);
    if (settings != NULL) otc_session_settings_delete(settings);
    otc_destroy();
    for (i = 0; i < (int)g.npeers; i++) {
        otc_connection_delete(g.peers[i].conn);
        free(g.peers[i].id);
    }
    free(g.peers);
    free(g.own_id);
    free(line);
    return ok ? 0 : 1;
}
