"""The official OpenTok Python server SDK, unmodified, against otc-server.

What an application server does with the SDK -- create a session, mint
tokens (JWT, the default, and the legacy T1 form), send signals to the whole
session and to one connection, force a client out -- checked from the other
end by the C chat example (c-examples/chat.c, linked against libopentok),
whose output says what its callbacks got:

    * connected as <id>
    * connection created: <id> [data=<connection data>]
    * connection dropped: <id>
    * disconnected
    [<sender id, or "server" when the connection is NULL>] <type>: <data>

The server and the chat program come from OTC_SERVER_BIN and OTC_CHAT_BIN
(tests/python/run.sh builds both and sets them). Every wait is bounded.

One test runs the server with TLS, with a certificate from a private CA the
test makes (the `cryptography` package, already there for PyJWT), and points
the SDK at it through REQUESTS_CA_BUNDLE, as a deployment would.
"""

import re
import secrets

import opentok
import pytest
import requests
from opentok.exceptions import ForceDisconnectError, RequestError

from harness import API_KEY, API_SECRET, WAIT, make_tls_files, running_server


def test_create_session_and_both_token_forms_connect(ot, chats):
    session = ot.create_session()
    sid = session.session_id
    assert sid.startswith("1_")

    jwt_token = ot.generate_token(sid)
    assert jwt_token.count(".") == 2 and not jwt_token.startswith("T1==")
    legacy = ot.generate_token(sid, use_jwt=False)
    assert legacy.startswith("T1==")

    a = chats(sid, jwt_token, "jwt")
    b = chats(sid, legacy, "legacy")
    assert a.id != b.id
    a.expect(r"^\* connection created: " + re.escape(b.id))
    b.expect(r"^\* connection created: " + re.escape(a.id))


def test_create_session_options_are_accepted(ot):
    from opentok import ArchiveModes, MediaModes

    s = ot.create_session(location="127.0.0.1", media_mode=MediaModes.routed, archive_mode=ArchiveModes.always)
    assert s.session_id.startswith("1_")
    # generate_token decodes the id and looks for the API key in it.
    assert ot.generate_token(s.session_id, role=opentok.Roles.moderator)


def test_signals_from_the_app_server(ot, chats):
    sid = ot.create_session().session_id
    alice = chats(sid, ot.generate_token(sid, data="name=alice"), "alice")
    bob = chats(sid, ot.generate_token(sid, use_jwt=False), "bob")
    # Connection data set through the SDK reaches the other participants.
    bob.expect(r"^\* connection created: " + re.escape(alice.id) + r" data=name=alice$")
    alice.expect(r"^\* connection created: " + re.escape(bob.id))

    # To the whole session: everyone, with no sender connection.
    ot.send_signal(sid, {"type": "news", "data": "hello from the app server"})
    for c in (alice, bob):
        assert c.next_server_signal() == ("news", "hello from the app server")

    # To one connection: only bob. Alice's next server signal is the
    # broadcast sent after it.
    ot.send_signal(sid, {"type": "dm", "data": "only for bob"}, bob.id)
    assert bob.next_server_signal() == ("dm", "only for bob")
    ot.send_signal(sid, {"type": "news", "data": "second"})
    assert alice.next_server_signal() == ("news", "second")
    assert bob.next_server_signal() == ("news", "second")

    # One after the other, they arrive in order.
    for i in range(10):
        ot.send_signal(sid, {"type": "seq", "data": str(i)}, alice.id if i % 2 else None)
    assert [alice.next_server_signal()[1] for _ in range(10)] == [str(i) for i in range(10)]
    assert [bob.next_server_signal()[1] for _ in range(5)] == [str(i) for i in range(0, 10, 2)]

    # Refusals come back as the SDK's exceptions, with OpenTok's statuses.
    # (This SDK version reports every failed signal as RequestError with the
    # status code as the second argument.)
    with pytest.raises(RequestError) as e:
        ot.send_signal(sid, {"type": "dm", "data": "x"}, "0123456789abcdef0123456789abcdef")
    assert 404 in e.value.args
    with pytest.raises(RequestError) as e:
        ot.send_signal(sid, {"type": "big", "data": "x" * 8193})
    assert 413 in e.value.args
    with pytest.raises(RequestError) as e:
        ot.send_signal(sid, {"type": "no spaces", "data": "x"})
    assert 400 in e.value.args
    empty = ot.create_session().session_id
    with pytest.raises(RequestError) as e:
        ot.send_signal(empty, {"type": "t", "data": "nobody here"})
    assert 404 in e.value.args

    # The largest data passes whole.
    ot.send_signal(sid, {"type": "big", "data": "y" * 8192}, bob.id)
    assert bob.next_server_signal() == ("big", "y" * 8192)


def test_force_disconnect(ot, chats):
    sid = ot.create_session().session_id
    alice = chats(sid, ot.generate_token(sid), "alice")
    bob = chats(sid, ot.generate_token(sid), "bob")
    alice.expect(r"^\* connection created: " + re.escape(bob.id))

    ot.force_disconnect(sid, bob.id)
    bob.expect(r"^\* disconnected$")
    alice.expect(r"^\* connection dropped: " + re.escape(bob.id) + "$")

    # Gone: a second try is the SDK's ForceDisconnectError (404).
    with pytest.raises(ForceDisconnectError):
        ot.force_disconnect(sid, bob.id)

    # Alice is still there and still gets signals.
    ot.send_signal(sid, {"type": "after", "data": "still here"})
    assert alice.next_server_signal() == ("after", "still here")


def test_wrong_credentials_are_refused(server, chats):
    bad = opentok.Client(API_KEY, "not-the-secret-" + secrets.token_hex(16), api_url=server, timeout=WAIT)
    bad.proxies = {"http": None, "https": None}
    with pytest.raises(RequestError) as e:
        bad.create_session()
    assert "invalid credentials" in str(e.value)
    good = opentok.Client(API_KEY, API_SECRET, api_url=server, timeout=WAIT)
    good.proxies = {"http": None, "https": None}
    sid = good.create_session().session_id
    with pytest.raises(RequestError) as e:
        bad.send_signal(sid, {"type": "t", "data": "x"})
    assert 403 in e.value.args
    # A token signed with the wrong secret does not get a client in
    # (generate_token itself cannot tell: it only signs), in either form.
    for use_jwt in (True, False):
        c = chats(sid, bad.generate_token(sid, use_jwt=use_jwt), f"forged-{use_jwt}", connect=False)
        c.expect(r"^! error 1004: ")


def test_the_sdk_over_https_with_a_private_ca(tmp_path, monkeypatch):
    ca, cert, key = make_tls_files(tmp_path)
    with running_server(tmp_path, ["--tls-cert", str(cert), "--tls-key", str(key)], scheme="https") as url:
        # Without our CA the SDK's HTTPS client refuses the certificate.
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        untrusting = opentok.Client(API_KEY, API_SECRET, api_url=url, timeout=WAIT)
        untrusting.proxies = {"http": None, "https": None}
        with pytest.raises(RequestError) as e:
            untrusting.create_session()
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)

        # With it (the environment variable requests reads), everything works.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
        for base in (url, url.replace("127.0.0.1", "localhost")):
            ot = opentok.Client(API_KEY, API_SECRET, api_url=base, timeout=WAIT)
            ot.proxies = {"http": None, "https": None}
            sid = ot.create_session().session_id
            assert sid.startswith("1_")
            assert ot.generate_token(sid)
            # The request got through and was judged: nobody is connected.
            with pytest.raises(RequestError) as e:
                ot.send_signal(sid, {"type": "t", "data": "over https"})
            assert 404 in e.value.args
            with pytest.raises(ForceDisconnectError):
                ot.force_disconnect(sid, "0123456789abcdef0123456789abcdef")

        # Plain HTTP to the TLS port is told what to use.
        r = requests.get(url.replace("https://", "http://") + "/health", timeout=WAIT, proxies={"http": None})
        assert r.status_code == 400
        assert "https://" in r.json()["message"]
