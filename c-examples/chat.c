/*
 * chat -- a terminal chat room on top of libopentok's signaling API.
 *
 * Every line typed on stdin is broadcast to the session as a signal of type
 * "chat"; `/to ID TEXT` sends TEXT to one connection only, as a signal of type
 * "private". What arrives is printed as
 *
 *     [<sender connection id, or "server">] <type>: <data>
 *     [<sender id> (own)] chat: <text>          our own broadcast, back again
 *     [<sender id> -> <our id>] private: <text> a private message to us
 *
 * and what happens as lines starting with "* " (connected, connections
 * created and dropped, reconnecting, reconnected, disconnected, a private
 * message sent) or "! " (an error: the chat goes on). Commands:
 *
 *     /to <connection-id> <text>   private message to one connection
 *     /who                         list the other connections
 *     /help                        list the commands
 *     /quit                        leave
 *     /wait-peers N [SECONDS]      wait until exactly N other connections are present
 *     /wait-signals N [SECONDS]    wait until N signals from others arrived
 *     /sleep MILLISECONDS          pause (for scripted input)
 *
 * The /wait and /sleep commands exist so a script can drive two clients
 * deterministically (see scripts/demo.sh). At end of input the program waits
 * --linger milliseconds for late signals, disconnects and frees everything.
 * When the session ends without us (the server or the application server
 * disconnected us), the program ends at once, without waiting for input.
 *
 * Signals are sent with otc_session_send_signal_to_connections (an extension
 * of libopentok), whose completion callback tells whether the server routed
 * or refused each one: a private message is confirmed once the server has
 * routed it, and a refused signal is printed with its error code.
 *
 * Usage: chat [options] API_KEY SESSION_ID TOKEN   (see --help)
 *
 * Exit status: 0 when connected, every command and signal succeeded and we
 * left the session ourselves; 1 otherwise; 2 for a usage error.
 *
 * Threads: the library calls our callbacks on its own thread while the main
 * thread reads stdin, so the shared state below is guarded by one mutex and
 * a condition variable wakes the main thread when something it waits for
 * happens; a pipe wakes it while it waits for input. We never call into the
 * library while holding our mutex, so a callback can never wait for us while
 * we wait for it.
 */
#define _POSIX_C_SOURCE 200809L

#include <opentok.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One other participant, kept from on_connection_created to
 * on_connection_dropped. `conn` is our own copy (otc_connection_copy): the
 * pointer handed to a callback is only valid during that callback. */
struct peer {
    otc_connection *conn;
    char *id;
};

/* A signal sent and not yet answered by the server: what the completion
 * callback needs to report it. `target` is NULL for a broadcast. */
struct pending {
    struct pending *next;
    char *target;
    char *text;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int connected;
    int disconnected;
    int failed; /* an error before we were connected */
    int refused; /* signals the server refused */
    char *own_id;
    struct peer *peers;
    size_t npeers, cap;
    unsigned long signals_from_others;
    struct pending *pending;
    const char *id_file;
    int wake[2]; /* on_disconnected writes to wake[1]; the input loop polls wake[0] */
} g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, 0, 0, 0,
       NULL, NULL, {-1, -1}};

static const char COMMANDS[] =
    "Type a line to send it to everyone (a signal of type \"chat\"). Commands:\n"
    "  /to <connection-id> <text>   private message to one connection (type \"private\")\n"
    "  /who                         list the other connections\n"
    "  /help                        this list\n"
    "  /quit                        leave (so does the end of input)\n"
    "For scripts:\n"
    "  /wait-peers N [SECONDS]      wait until exactly N other connections are present\n"
    "  /wait-signals N [SECONDS]    wait until N signals from others have arrived\n"
    "  /sleep MILLISECONDS          pause\n";

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
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

static int session_ended(void) {
    int gone;
    pthread_mutex_lock(&g.lock);
    gone = g.disconnected;
    pthread_mutex_unlock(&g.lock);
    return gone;
}

/* Waits up to `ms` milliseconds, less if the session ends meanwhile. */
static void pause_ms(long ms) {
    struct timespec until = deadline_in((double)ms / 1000.0);
    pthread_mutex_lock(&g.lock);
    while (!g.disconnected) {
        if (pthread_cond_timedwait(&g.changed, &g.lock, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&g.lock);
}

/* What a signal's error code means, for messages. */
static const char *signal_error_text(otc_status code) {
    switch (code) {
    case OTC_SIGNAL_TARGET_NOT_CONNECTED: return "the target is not in the session";
    case OTC_SIGNAL_PERMISSION_DENIED: return "this connection's role may not signal";
    case OTC_SIGNAL_RATE_LIMITED: return "too many signals: rate limited";
    case OTC_SIGNAL_BUFFER_FULL: return "a recipient is too far behind";
    case OTC_SESSION_NOT_CONNECTED: return "the session was disconnected first";
    case OTC_SESSION_CONNECTION_DROPPED: return "the connection dropped first";
    case OTC_SESSION_SIGNAL_DATA_TOO_LONG: return "the text is too long";
    default: return "refused";
    }
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
    char byte = 1;
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    g.disconnected = 1;
    printf("* disconnected\n");
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
    /* Wakes the input loop, which may be waiting for a line. */
    if (g.wake[1] >= 0 && write(g.wake[1], &byte, 1) < 0) {
        /* The pipe is never full (one byte, once); nothing to do. */
    }
}

static void on_reconnection_started(otc_session *session, void *user_data) {
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    printf("* reconnecting (the link dropped; lines typed now are sent once it is back)\n");
    pthread_mutex_unlock(&g.lock);
}

static void on_reconnected(otc_session *session, void *user_data) {
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    printf("* reconnected as %s\n", g.own_id != NULL ? g.own_id : "?");
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
    const char *kind = type != NULL ? type : "";
    const char *data = signal != NULL ? signal : "";
    int own;
    (void)session;
    (void)user_data;
    pthread_mutex_lock(&g.lock);
    own = from != NULL && g.own_id != NULL && strcmp(from, g.own_id) == 0;
    if (connection == NULL) {
        printf("[server] %s: %s\n", kind, data);
    } else if (!own && strcmp(kind, "private") == 0) {
        printf("[%s -> %s] %s: %s\n", from != NULL ? from : "?",
               g.own_id != NULL ? g.own_id : "?", kind, data);
    } else {
        printf("[%s%s] %s: %s\n", from != NULL ? from : "?", own ? " (own)" : "", kind, data);
    }
    if (!own) g.signals_from_others++;
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
}

/* The server's answer to one of our signals. */
static void on_signal_complete(otc_session *session, void *user_data, uint64_t signal_id,
                               otc_status result, void *completion_data) {
    struct pending *done = completion_data, **p;
    (void)session;
    (void)user_data;
    (void)signal_id;
    pthread_mutex_lock(&g.lock);
    for (p = &g.pending; *p != NULL; p = &(*p)->next) {
        if (*p == done) {
            *p = done->next;
            break;
        }
    }
    if (result == OTC_SUCCESS) {
        if (done->target != NULL) printf("* sent privately to %s: %s\n", done->target, done->text);
    } else {
        g.refused++;
        if (done->target != NULL) {
            printf("! private message to %s not sent: error %d, %s\n", done->target, (int)result,
                   signal_error_text(result));
        } else {
            printf("! message not sent: error %d, %s\n", (int)result, signal_error_text(result));
        }
    }
    pthread_mutex_unlock(&g.lock);
    free(done->target);
    free(done->text);
    free(done);
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

/* Sends `text` as a signal of `type` to the connection `target`, or to
 * everyone when `target` is NULL; on_signal_complete reports the outcome.
 * Returns 0 when the library refused it at once (then it says why). */
static int send_text(otc_session *session, const char *type, const char *text,
                     const char *target) {
    struct otc_signal_options options;
    struct pending *rec = calloc(1, sizeof *rec), **p;
    const char *targets[1];
    otc_status st;

    if (rec == NULL || (rec->text = dup_str(text)) == NULL ||
        (target != NULL && (rec->target = dup_str(target)) == NULL)) {
        printf("! out of memory\n");
        if (rec != NULL) {
            free(rec->text);
            free(rec);
        }
        return 0;
    }
    targets[0] = target;
    options.retry_after_reconnect = OTC_TRUE;
    /* Listed before the call: the completion may run before it returns. */
    pthread_mutex_lock(&g.lock);
    rec->next = g.pending;
    g.pending = rec;
    pthread_mutex_unlock(&g.lock);
    st = otc_session_send_signal_to_connections(session, type, text,
                                                target != NULL ? targets : NULL,
                                                target != NULL ? 1 : 0, options,
                                                on_signal_complete, rec, NULL);
    if (st == OTC_SUCCESS) return 1;
    /* Refused before anything was queued: no completion will come. */
    pthread_mutex_lock(&g.lock);
    for (p = &g.pending; *p != NULL; p = &(*p)->next) {
        if (*p == rec) {
            *p = rec->next;
            break;
        }
    }
    pthread_mutex_unlock(&g.lock);
    if (target != NULL) {
        printf("! private message to %s not sent: error %d\n", target, (int)st);
    } else {
        printf("! message not sent: error %d\n", (int)st);
    }
    free(rec->target);
    free(rec->text);
    free(rec);
    return 0;
}

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
    size_t n = strcspn(rest, " ");
    size_t i;
    int known = 0;

    if (n == 0 || n >= sizeof id || rest[n] != ' ') {
        printf("! usage: /to <connection-id> <text>\n");
        return 0;
    }
    memcpy(id, rest, n);
    id[n] = '\0';
    text = rest + n + 1;

    pthread_mutex_lock(&g.lock);
    for (i = 0; i < g.npeers; i++) {
        if (strcmp(g.peers[i].id, id) == 0) known = 1;
    }
    pthread_mutex_unlock(&g.lock);
    if (!known) {
        printf("! no connection %s in this session (see /who)\n", id);
        return 0;
    }
    /* If it left meanwhile, the server says so (1600) through the completion. */
    return send_text(session, "private", text, id);
}

static void list_peers(void) {
    size_t i;
    pthread_mutex_lock(&g.lock);
    printf("* %lu other connection(s)\n", (unsigned long)g.npeers);
    for (i = 0; i < g.npeers; i++) {
        const char *data = otc_connection_get_data(g.peers[i].conn);
        printf("*   %s%s%s\n", g.peers[i].id, data != NULL && *data ? " " : "",
               data != NULL ? data : "");
    }
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

/* Runs one input line; returns 0 when it failed (it said why), and sets
 * *quit on /quit. */
static int run_line(otc_session *session, const char *line, int *quit) {
    unsigned long n;
    double seconds;

    if (strcmp(line, "/quit") == 0) {
        *quit = 1;
        return 1;
    }
    if (strncmp(line, "/to ", 4) == 0) return send_private(session, line + 4);
    if (strcmp(line, "/who") == 0) {
        list_peers();
        return 1;
    }
    if (strcmp(line, "/help") == 0) {
        fputs(COMMANDS, stdout);
        return 1;
    }
    if (strncmp(line, "/wait-peers ", 12) == 0) {
        if (!parse_wait(line + 12, &n, &seconds)) {
            printf("! usage: /wait-peers N [SECONDS]\n");
            return 0;
        }
        if (!wait_count(&g.npeers, NULL, n, seconds)) {
            if (session_ended()) return 1; /* the input loop says so */
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
            if (session_ended()) return 1;
            printf("! timed out waiting for %lu signal(s) from others\n", n);
            return 0;
        }
        return 1;
    }
    if (strncmp(line, "/sleep ", 7) == 0) {
        long ms = strtol(line + 7, NULL, 10);
        if (ms > 0 && ms <= 600000) pause_ms(ms);
        return 1;
    }
    if (line[0] == '/') {
        printf("! unknown command: %s (/help lists them)\n", line);
        return 0;
    }
    return send_text(session, "chat", line, NULL);
}

/* ---- input (main thread) ------------------------------------------------ */

/* Lines from stdin, read with read(2) into our own buffer (not stdio), so
 * that poll(2) can wait for input and for the end of the session at once. */
static struct {
    char *buf;
    size_t len, cap;
    int eof;
} in;

/* The next line, without its end of line, NUL-terminated, in `*line` (ours
 * until the next call). Returns 1 for a line, 0 at the end of input, -1
 * when the session ended first. */
static int next_line(char **line, size_t *line_cap) {
    for (;;) {
        char *nl = in.len > 0 ? memchr(in.buf, '\n', in.len) : NULL;
        size_t n = nl != NULL ? (size_t)(nl - in.buf) : in.len;
        struct pollfd fds[2];

        if (nl != NULL || (in.eof && in.len > 0)) {
            if (n + 1 > *line_cap) {
                char *bigger = realloc(*line, n + 1);
                if (bigger == NULL) return 0;
                *line = bigger;
                *line_cap = n + 1;
            }
            memcpy(*line, in.buf, n);
            (*line)[n] = '\0';
            if (n > 0 && (*line)[n - 1] == '\r') (*line)[n - 1] = '\0';
            if (nl != NULL) n++;
            memmove(in.buf, in.buf + n, in.len - n);
            in.len -= n;
            return 1;
        }
        if (in.eof) return 0;
        if (session_ended()) return -1;

        fds[0].fd = STDIN_FILENO;
        fds[0].events = POLLIN;
        fds[1].fd = g.wake[0];
        fds[1].events = POLLIN;
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            in.eof = 1;
            continue;
        }
        if (fds[1].revents != 0) continue; /* the loop sees `disconnected` */
        if (fds[0].revents != 0) {
            ssize_t got;
            if (in.cap - in.len < 4096) {
                size_t cap = in.cap ? in.cap * 2 : 8192;
                char *bigger = realloc(in.buf, cap);
                if (bigger == NULL) {
                    in.eof = 1;
                    continue;
                }
                in.buf = bigger;
                in.cap = cap;
            }
            got = read(STDIN_FILENO, in.buf + in.len, in.cap - in.len);
            if (got > 0) {
                in.len += (size_t)got;
            } else if (got == 0 || errno != EINTR) {
                in.eof = 1;
            }
        }
    }
}

static void usage(FILE *to) {
    fprintf(to,
            "usage: chat [options] API_KEY SESSION_ID TOKEN\n"
            "  (API_KEY, SESSION_ID and TOKEN may instead come from OTC_API_KEY,\n"
            "   OTC_SESSION_ID and OTC_TOKEN)\n"
            "Options:\n"
            "  --server URL       server base URL (else $OTC_SERVER_URL, else http://127.0.0.1:4443)\n"
            "  --id-file PATH     write our connection id to PATH once connected\n"
            "  --linger MS        at the end of input, wait this long for late signals (default 1000)\n"
            "  --timeout SECONDS  give up connecting after this long (default 15)\n"
            "  --log LEVEL        library log level: 0 off (default), 1 error, 2 warn, 3 info, 4 debug\n"
            "  -h, --help         this text\n"
            "\n%s"
            "Output:\n"
            "  * ...                            what happened (connected, reconnecting, ...)\n"
            "  ! ...                            an error; the chat goes on\n"
            "  [ID] TYPE: DATA                  a signal from connection ID\n"
            "  [server] TYPE: DATA              a signal from the application server (REST)\n"
            "  [ID (own)] chat: TEXT            your own line, back from the server\n"
            "  [ID -> YOUR-ID] private: TEXT    a private message to you\n"
            "Exit status: 0 if connected, every command and signal succeeded and you left;\n"
            "1 otherwise; 2 for a usage error.\n",
            COMMANDS);
}

int main(int argc, char **argv) {
    const char *server = NULL, *api_key, *session_id, *token;
    const char *positional[3] = {NULL, NULL, NULL};
    long linger_ms = 1000;
    double timeout_s = 15;
    int log_level = -1, npos = 0, i, ok = 1, quit = 0, got, gone = 0, failed_commands = 0;
    struct otc_session_callbacks callbacks;
    otc_session_settings *settings = NULL;
    otc_session *session = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    struct timespec until;
    struct pending *rest;

    setvbuf(stdout, NULL, _IOLBF, 0);

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
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
            usage(stderr);
            return 2;
        } else if (npos < 3) {
            positional[npos++] = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    api_key = positional[0] != NULL ? positional[0] : getenv("OTC_API_KEY");
    session_id = positional[1] != NULL ? positional[1] : getenv("OTC_SESSION_ID");
    token = positional[2] != NULL ? positional[2] : getenv("OTC_TOKEN");
    if (api_key == NULL || session_id == NULL || token == NULL) {
        usage(stderr);
        return 2;
    }
    if (linger_ms < 0 || linger_ms > 600000) linger_ms = 1000;
    if (!(timeout_s > 0 && timeout_s <= 3600)) timeout_s = 15;
    if (pipe(g.wake) != 0) {
        fprintf(stderr, "chat: pipe: %s\n", strerror(errno));
        return 1;
    }

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
    callbacks.on_reconnection_started = on_reconnection_started;
    callbacks.on_reconnected = on_reconnected;
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

    /* A failed command is reported and the chat goes on; it only changes
     * the exit status. The loop ends with /quit, the end of input, or the
     * end of the session (without waiting for another line). */
    while (ok && !quit && (got = next_line(&line, &line_cap)) > 0) {
        if (line[0] == '\0') continue;
        if (!run_line(session, line, &quit)) failed_commands++;
    }
    gone = session_ended();
    if (g.connected && gone) {
        printf("! the session ended\n");
        ok = 0;
    }

    if (g.connected && !gone) {
        if (!quit) pause_ms(linger_ms); /* late signals at end of input */
        gone = session_ended();
        if (gone) {
            printf("! the session ended\n");
            ok = 0;
        } else {
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
    if (g.refused > 0 || failed_commands > 0) ok = 0;
    for (i = 0; i < (int)g.npeers; i++) {
        otc_connection_delete(g.peers[i].conn);
        free(g.peers[i].id);
    }
    /* Signals whose answer never came (the session ended first). */
    while ((rest = g.pending) != NULL) {
        g.pending = rest->next;
        free(rest->target);
        free(rest->text);
        free(rest);
    }
    free(g.peers);
    free(g.own_id);
    free(line);
    free(in.buf);
    close(g.wake[0]);
    close(g.wake[1]);
    return ok ? 0 : 1;
}
