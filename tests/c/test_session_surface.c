/*
 * The session functions of the SDK beyond signaling, as a C program uses
 * them:
 *   - otc_session_report_issue: the id comes back through the out
 *     parameter (freed with free()), a new one each time; bad arguments and
 *     a session that is not connected are refused and leave it untouched.
 *     The program writes "<issue id> <connection id> <session id>" to
 *     $OTC_TEST_READY_FILE and scripts/c-tests.sh checks that the server
 *     logged that issue with the project, session and connection;
 *   - the samples' habit of otc_session_disconnect followed at once by
 *     otc_session_delete: on_disconnected has run when delete returns;
 *   - settings the SDK has for media are accepted (NULL refused); so are a
 *     proxy URL and a wss:// server URL, and an unreadable CA file
 *     (otc_session_settings_set_ca_file, our extension) is refused when set.
 *
 * Environment from scripts/c-tests.sh (two tokens).
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#define WAIT_MS 15000

static struct client A, B;

static void test_report_issue(const struct test_env *e, const char *ready) {
    char *id1 = NULL, *id2 = NULL, *untouched = NULL;
    char *long_text = repeat_char('x', 8193);

    CHECK(client_new(&A, "one", e, NULL) && client_connect(&A, e->token[0]), "one connects");
    if (!A.connected) goto out;

    CHECK_INT(otc_session_report_issue(A.session, "c test: the picture froze", &id1), OTC_SUCCESS,
              "report an issue");
    CHECK(id1 != NULL && strlen(id1) == 36, "the issue id is a UUID string");
    CHECK_INT(otc_session_report_issue(A.session, NULL, &id2), OTC_SUCCESS,
              "a NULL description is an empty one");
    CHECK(id1 != NULL && id2 != NULL && strcmp(id1, id2) != 0, "each report has its own id");

    CHECK_INT(otc_session_report_issue(A.session, long_text, &untouched),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "a description over 8192 bytes is refused");
    CHECK_INT(otc_session_report_issue(A.session, "x", NULL), OTC_SESSION_NULL_OR_INVALID_PARAMETER,
              "NULL issue_id is refused");
    CHECK_INT(otc_session_report_issue(NULL, "x", &untouched),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "NULL session is refused");
    CHECK(untouched == NULL, "a refused report leaves *issue_id alone");

    if (id1 != NULL) {
        char tmp[4096];
        FILE *f;
        snprintf(tmp, sizeof tmp, "%s.tmp", ready);
        f = fopen(tmp, "w");
        CHECK(f != NULL, "write the ready file");
        if (f != NULL) {
            fprintf(f, "%s %s %s\n", id1, A.own_id, e->session_id);
            fclose(f);
            CHECK(rename(tmp, ready) == 0, "publish the ready file");
        }
    }

    /* Disconnect and delete at once, as the SDK's samples do. */
    CHECK_INT(otc_session_disconnect(A.session), OTC_SUCCESS, "disconnect");
    CHECK_INT(otc_session_delete(A.session), OTC_SUCCESS, "delete right after");
    A.session = NULL;
    CHECK_INT(A.disconnected, 1, "on_disconnected ran before otc_session_delete returned");

    /* Not connected any more: a new session that never connected. */
    CHECK(client_new(&B, "two", e, NULL), "a second session");
    CHECK_INT(otc_session_report_issue(B.session, "x", &untouched), OTC_SESSION_NOT_CONNECTED,
              "reporting needs a connected session");
    CHECK(untouched == NULL, "and leaves *issue_id alone");
out:
    free(id1);
    free(id2);
    free(long_text);
}

static void test_media_settings(void) {
    otc_session_settings *s = otc_session_settings_new();
    char *urls[1], *users[1], *creds[1];
    struct otc_custom_ice_config ice;
    urls[0] = (char *)"turn:turn.example.com:3478";
    users[0] = (char *)"user";
    creds[0] = (char *)"pass";
    ice.num_ice_servers = 1;
    ice.ice_url = urls;
    ice.ice_user = users;
    ice.ice_credential = creds;
    ice.force_turn = OTC_TRUE;
    ice.use_custom_turn_only = OTC_FALSE;
    CHECK(s != NULL, "settings");
    CHECK_INT(otc_session_settings_set_ip_whitelist(s, OTC_TRUE), OTC_SUCCESS, "ip whitelist kept");
    CHECK_INT(otc_session_settings_set_custom_ice_config(s, &ice), OTC_SUCCESS, "ICE config kept");
    CHECK_INT(otc_session_settings_set_custom_ice_config(s, NULL),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "NULL ICE config refused");
    CHECK_INT(otc_session_settings_set_ip_whitelist(NULL, OTC_TRUE),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "NULL settings refused");
    CHECK_INT(otc_session_settings_set_proxy_url(s, "https://127.0.0.1:3128"), OTC_SUCCESS,
              "proxy URL kept");
    CHECK_INT(otc_session_settings_set_proxy_url(s, "not a url"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "malformed proxy URL refused");
    CHECK_INT(otc_session_settings_set_server_url(s, "wss://127.0.0.1:4443"), OTC_SUCCESS,
              "wss:// server URL accepted");
    CHECK_INT(otc_session_settings_set_ca_file(s, "/nonexistent/otc-ca.pem"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "unreadable CA file refused when set");
    CHECK_INT(otc_session_settings_set_ca_file(s, NULL), OTC_SUCCESS, "NULL CA file clears it");
    CHECK_INT(otc_session_settings_set_ca_file(NULL, "/nonexistent/otc-ca.pem"),
              OTC_SESSION_NULL_OR_INVALID_PARAMETER, "CA file on NULL settings refused");
    CHECK_INT(otc_session_settings_delete(s), OTC_SUCCESS, "settings deleted");
}

int main(void) {
    struct test_env e = test_env(2);
    const char *ready = getenv("OTC_TEST_READY_FILE");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (ready == NULL) {
        fprintf(stderr, "set OTC_TEST_READY_FILE (scripts/c-tests.sh does)\n");
        return 2;
    }
    CHECK_INT(otc_init(NULL), OTC_SUCCESS, "otc_init");
    test_report_issue(&e, ready);
    test_media_settings();
    client_free(&A);
    client_free(&B);
    CHECK_INT(otc_destroy(), OTC_SUCCESS, "otc_destroy");
    return finish();
}
