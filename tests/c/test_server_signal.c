/*
 * Signals sent by the application server through the REST API arrive with
 * `connection == NULL`, to everyone or to the one connection named.
 *
 * Two clients connect; the program writes their connection ids to
 * $OTC_TEST_READY_FILE ("<id one> <id two>"), then scripts/c-tests.sh
 * POSTs, in this order,
 *   /v2/project/{key}/session/{sid}/connection/{id two}/signal  data "srv-two"
 *   /v2/project/{key}/session/{sid}/signal                      data "srv-all"
 * with type "srvtype", and the program checks what each client received.
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 20000

static struct client A, B;

int main(void) {
    struct test_env e = test_env(2);
    const char *ready = getenv("OTC_TEST_READY_FILE");
    int i;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ready == NULL) {
        fprintf(stderr, "set OTC_TEST_READY_FILE (scripts/c-tests.sh does)\n");
        return 2;
    }
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init");
    CHECK(client_new(&A, "one", &e, NULL) && client_connect(&A, e.token[0]), "one connects");
    CHECK(client_new(&B, "two", &e, NULL) && client_connect(&B, e.token[1]), "two connects");
    CHECK(A.connected && B.connected && client_wait(&A, p_created, B.own_id, WAIT_MS),
          "both connected and known to each other");
    if (A.connected && B.connected) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", ready);
        f = fopen(tmp, "w");
        CHECK(f != NULL, "write the ready file");
        if (f != NULL) {
            fprintf(f, "%s %s\n", A.own_id, B.own_id);
            fclose(f);
            CHECK(rename(tmp, ready) == 0, "publish the ready file");
        }
        CHECK(client_wait(&B, p_signal_data, "srv-two", WAIT_MS),
              "a REST signal to one connection reaches it");
        CHECK(client_wait(&B, p_signal_data, "srv-all", WAIT_MS) &&
                  client_wait(&A, p_signal_data, "srv-all", WAIT_MS),
              "a REST signal to the session reaches everyone");
        i = find_signal(&B, "srv-two");
        if (i >= 0) {
            CHECK(B.signals[i].from_server, "on_signal_received gets connection == NULL");
            CHECK_STR(B.signals[i].type, "srvtype", "REST signal type arrives");
        }
        i = find_signal(&A, "srv-all");
        if (i >= 0) CHECK(A.signals[i].from_server, "broadcast from the server: connection == NULL");
        /* "srv-all" was sent after "srv-two", and events arrive in order. */
        CHECK_INT(count_signal(&A, "srv-two"), 0, "a REST signal to one connection reaches no other");
        CHECK_INT(count_signal(&B, "srv-all"), 1, "exactly once");
    }
    client_free(&A);
    client_free(&B);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");
    return finish();
}
