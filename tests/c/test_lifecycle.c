/*
 * Lifetimes and re-entrancy; scripts/c-tests.sh also runs this one under
 * valgrind memcheck (zero errors, zero bytes definitely lost).
 *
 *   - API calls from inside callbacks: an echo, a session disconnecting
 *     itself, a session deleting itself (no callback of it runs afterwards);
 *   - otc_session_delete of a connected session (others see it dropped);
 *   - connection copies outlive the session they came from;
 *   - otc_destroy with a session still connected cleans everything up;
 *   - the library can be initialized again after otc_destroy.
 *
 * Environment from scripts/c-tests.sh (three tokens).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 15000

static struct client A, B, D, E;

static void test_callbacks_calling_in(const struct test_env *e) {
    otc_connection *to_b, *to_d, *to_e;

    CHECK(client_new(&A, "one", e, NULL) && client_connect(&A, e->token[0]), "one connects");
    CHECK(client_new(&B, "two", e, NULL) && client_connect(&B, e->token[1]), "two connects");
    CHECK(client_new(&D, "three", e, NULL) && client_connect(&D, e->token[2]), "three connects");
    CHECK(client_new(&E, "four", e, NULL) && client_connect(&E, e->token[2]), "four connects");
    if (!(A.connected && B.connected && D.connected && E.connected)) return;
    CHECK(client_wait(&A, p_created, B.own_id, WAIT_MS) &&
              client_wait(&A, p_created, D.own_id, WAIT_MS) &&
              client_wait(&A, p_created, E.own_id, WAIT_MS),
          "one sees the three others");

    to_b = client_conn(&A, B.own_id);
    to_d = client_conn(&A, D.own_id);
    to_e = client_conn(&A, E.own_id);
    CHECK(to_b != NULL && to_d != NULL && to_e != NULL, "copies of the other connections");
    if (to_b == NULL || to_d == NULL || to_e == NULL) goto out;

    /* Echo: two answers from inside on_signal_received. */
    pthread_mutex_lock(&B.lock);
    B.echo = 1;
    pthread_mutex_unlock(&B.lock);
    CHECK_INT(otc_session_send_signal_to_connection(A.session, "ping", "echo me", to_b), OTC_SUCCESS,
              "ping");
    CHECK(client_wait(&A, p_signal_data, "echo me", WAIT_MS), "echo answered from a callback");

    /* Disconnecting itself from inside its own callback. */
    pthread_mutex_lock(&D.lock);
    D.disconnect_on = "please leave";
    pthread_mutex_unlock(&D.lock);
    CHECK_INT(otc_session_send_signal_to_connection(A.session, "cmd", "please leave", to_d),
              OTC_SUCCESS, "ask three to leave");
    CHECK(client_wait(&D, p_disconnected, NULL, WAIT_MS),
          "otc_session_disconnect from inside a callback: on_disconnected follows");
    CHECK_INT(D.self_call_status, OTC_SUCCESS, "that disconnect returned OTC_SUCCESS");
    CHECK(client_wait(&A, p_dropped, D.own_id, WAIT_MS), "the others see it dropped");

    /* Deleting itself from inside its own callback. */
    pthread_mutex_lock(&E.lock);
    E.delete_on = "please vanish";
    pthread_mutex_unlock(&E.lock);
    CHECK_INT(otc_session_send_signal_to_connection(A.session, "cmd", "please vanish", to_e),
              OTC_SUCCESS, "ask four to delete itself");
    CHECK(client_wait(&E, p_deleted_in_callback, NULL, WAIT_MS),
          "otc_session_delete from inside its own callback returns");
    CHECK_INT(E.self_call_status, OTC_SUCCESS, "that delete returned OTC_SUCCESS");
    CHECK(client_wait(&A, p_dropped, E.own_id, WAIT_MS), "the others see the deleted one dropped");
    /* Anything sent to it now must not reach a callback: a broadcast, then
     * a barrier seen by one, then a little grace for stragglers. */
    CHECK_INT(otc_session_send_signal(A.session, "all", "after the delete"), OTC_SUCCESS, "broadcast");
    CHECK(client_wait(&A, p_signal_data, "after the delete", WAIT_MS), "broadcast went round");
    sleep_ms(200);
    pthread_mutex_lock(&E.lock);
    CHECK_INT(E.callbacks_seen, E.callbacks_at_delete,
              "no callback of a session runs after it deleted itself");
    pthread_mutex_unlock(&E.lock);

    /* Deleting a connected session from outside: its peer sees it drop, and
     * our copy of its connection stays usable. */
    CHECK_INT(otc_session_delete(B.session), OTC_SUCCESS, "delete a connected session");
    B.session = NULL;
    CHECK(client_wait(&A, p_dropped, B.own_id, WAIT_MS), "its peer sees it dropped");
    CHECK_STR(otc_connection_get_id(to_b), B.own_id, "a copy outlives the deleted session");
    CHECK_STR(otc_connection_get_data(to_b), "name=two", "and keeps its data");
out:
    if (to_b != NULL) otc_connection_delete(to_b);
    if (to_d != NULL) otc_connection_delete(to_d);
    if (to_e != NULL) otc_connection_delete(to_e);
}

static void test_destroy_with_live_session(const struct test_env *e) {
    static struct client F;
    int calls;
    CHECK(client_new(&F, "left-open", e, NULL) && client_connect(&F, e->token[0]),
          "a session left connected");
    CHECK_INT(otc_session_send_signal(F.session, "t", "in flight at destroy"), OTC_SUCCESS,
              "a signal possibly still in flight");
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy with a session still connected");
    pthread_mutex_lock(&F.lock);
    calls = F.callbacks_seen;
    pthread_mutex_unlock(&F.lock);
    sleep_ms(200);
    pthread_mutex_lock(&F.lock);
    CHECK_INT(F.callbacks_seen, calls, "no callback runs after otc_destroy returns");
    pthread_mutex_unlock(&F.lock);
    /* otc_destroy deleted the session; only our own records remain. */
    F.session = NULL;
    client_free(&F);
}

int main(void) {
    struct test_env e = test_env(3);
    int round;
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init");
    test_callbacks_calling_in(&e);
    client_free(&A);
    client_free(&B);
    client_free(&D);
    client_free(&E);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");

    /* Start and stop the library again, twice. */
    for (round = 0; round < 2; round++) {
        CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init again");
        test_destroy_with_live_session(&e);
    }
    return finish();
}
