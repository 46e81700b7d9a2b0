"""What the C chat example (c-examples/chat.c) shows its user, and what it
does when something goes wrong: a failed command is reported and the chat
goes on; private messages look different from broadcasts and are confirmed
to their sender; a refused signal is printed (and logged by the library at
warning level); a reconnection is announced; a force-disconnect ends the
program without waiting for input. The application server's side is the
official SDK, as in test_opentok_sdk.py.
"""

import re
import subprocess

import opentok

from harness import WAIT, Proxy, binary


def test_help_lists_every_command_and_option():
    out = subprocess.run([binary("OTC_CHAT_BIN"), "--help"], capture_output=True, text=True, timeout=WAIT)
    assert out.returncode == 0, out.stderr
    for word in ("/to <connection-id> <text>", "/who", "/help", "/quit", "/wait-peers", "/wait-signals", "/sleep",
                 "--server URL", "--id-file", "--linger", "--timeout", "--log LEVEL", "Exit status"):
        assert word in out.stdout, f"--help does not mention {word}:\n{out.stdout}"


def test_a_failed_command_is_reported_and_the_chat_goes_on(ot, chats):
    sid = ot.create_session().session_id
    alice = chats(sid, ot.generate_token(sid, data="name=alice"), "alice")
    bob = chats(sid, ot.generate_token(sid, data="name=bob"), "bob")
    alice.expect(r"^\* connection created: " + re.escape(bob.id))

    alice.send("/to nosuchid hi")
    alice.expect(r"^! no connection nosuchid in this session \(see /who\)$")
    alice.send("/bogus")
    alice.expect(r"^! unknown command: /bogus ")
    alice.send("/to " + bob.id)
    alice.expect(r"^! usage: /to <connection-id> <text>$")
    alice.send("/wait-peers x")
    alice.expect(r"^! usage: /wait-peers")
    # Still in the session: a line and /who work, and bob gets the line.
    alice.send("/who")
    alice.expect(r"^\*   " + re.escape(bob.id) + " name=bob$")
    alice.send("still here")
    alice.expect(r"^\[" + re.escape(alice.id) + r" \(own\)\] chat: still here$")
    bob.expect(r"^\[" + re.escape(alice.id) + r"\] chat: still here$")
    # The exit status remembers that commands failed.
    assert alice.close() == 1
    assert bob.close() == 0


def test_private_messages_look_different_and_are_confirmed(ot, chats):
    sid = ot.create_session().session_id
    alice = chats(sid, ot.generate_token(sid), "alice")
    bob = chats(sid, ot.generate_token(sid), "bob")
    carol = chats(sid, ot.generate_token(sid), "carol")
    alice.expect(r"^\* connection created: " + re.escape(carol.id))
    bob.expect(r"^\* connection created: " + re.escape(carol.id))

    alice.send(f"/to {bob.id} psst bob")
    bob.expect(r"^\[" + re.escape(alice.id) + " -> " + re.escape(bob.id) + r"\] private: psst bob$")
    alice.expect(r"^\* sent privately to " + re.escape(bob.id) + ": psst bob$")
    # A broadcast afterwards: carol gets it, and nothing private before it.
    alice.send("to everyone")
    carol.expect(r"^\[" + re.escape(alice.id) + r"\] chat: to everyone$")
    assert not any("psst" in line for line in carol.out.all), carol.out.all
    bob.expect(r"^\[" + re.escape(alice.id) + r"\] chat: to everyone$")
    for c in (alice, bob, carol):
        assert c.close() == 0, c.out.all


def test_a_refused_signal_is_shown_and_logged_at_warning_level(ot, chats):
    sid = ot.create_session().session_id
    # Library log level 2 is OTC_LOG_LEVEL_WARN; chat's stderr is read too.
    po = chats(sid, ot.generate_token(sid, role=opentok.Roles.publisher_only), "po", extra=("--log", "2"))
    po.send("may I?")
    po.expect(r"^! message not sent: error 1601, this connection's role may not signal$")
    # The library's line comes on stderr, before or after chat's own.
    warning = re.compile(r"^opentok \[WARN\] .*the server refused signal #1: .*\(1601\)")
    if not any(warning.search(line) for line in po.out.all):
        po.expect(warning.pattern)
    assert po.close() == 1


def test_force_disconnect_ends_the_program_without_waiting_for_input(ot, chats):
    sid = ot.create_session().session_id
    alice = chats(sid, ot.generate_token(sid), "alice")
    bob = chats(sid, ot.generate_token(sid), "bob")
    ot.force_disconnect(sid, alice.id)
    alice.expect(r"^\* disconnected$")
    alice.expect(r"^! the session ended$")
    # stdin is still open: the program ends by itself.
    assert alice.wait() == 1
    # Also in the middle of a long wait, which ends with the session.
    bob.send("/wait-signals 5 300")
    ot.force_disconnect(sid, bob.id)
    bob.expect(r"^! the session ended$")
    assert bob.wait() == 1
    assert not any("timed out" in line for line in bob.out.all), bob.out.all


def test_a_reconnection_is_announced(server, ot, chats):
    port = int(server.rsplit(":", 1)[1])
    proxy = Proxy(port)
    try:
        sid = ot.create_session().session_id
        alice = chats(sid, ot.generate_token(sid), "alice", server_url=proxy.url)
        proxy.cut()
        alice.expect(r"^\* reconnecting ")
        alice.expect(r"^\* reconnected as " + re.escape(alice.id) + "$")
        # Same connection: a signal to its id arrives.
        ot.send_signal(sid, {"type": "after", "data": "reconnected"}, alice.id)
        assert alice.next_server_signal() == ("after", "reconnected")
        assert proxy.accepted >= 2
        assert alice.close() == 0, alice.out.all
    finally:
        proxy.close()
