"""The current Vonage server SDK for Python (`vonage` 4.x from PyPI,
unmodified, pinned in requirements.txt) against otc-server with a Vonage
*application* configured: an application id and the public half of an RSA
key pair the test makes (with `cryptography`, which the SDK depends on). The
SDK signs its REST JWTs and client tokens RS256 with the private half.

`vonage` always speaks https (its video host is a host name, the scheme is
fixed), so the server runs with TLS, with a certificate from a private CA
the test makes; requests trusts it through REQUESTS_CA_BUNDLE and the C chat
example (connecting with the application id as its API key) through
OTC_CA_FILE, as a deployment would.

What is checked, from the other end by the C chat example (see
test_opentok_sdk.py for what it prints): sessions created with and without
options, client tokens joining, signals to the session and to one
connection, force disconnect, and refusals (another key, a client token used
as REST credentials). Every wait is bounded.
"""

import base64
import os
import re
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import ForbiddenError, HttpRequestError, NotFoundError
from vonage_video.models import SessionOptions, SignalData, TokenOptions

from harness import API_KEY, API_SECRET, WAIT, Chat, make_tls_files, running_server

APP_ID = str(uuid.uuid4())


def rsa_pair():
    """(private key PEM, PKCS#8 as the SDK wants it; public key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


PRIVATE_KEY, PUBLIC_KEY = rsa_pair()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """otc-server over TLS with our project and our application, and the
    environment that makes requests and the chat example trust its CA;
    yields (url, host:port)."""
    d = tmp_path_factory.mktemp("vonage")
    ca, cert, key = make_tls_files(d)
    pub = d / "app.pub.pem"
    pub.write_text(PUBLIC_KEY)
    saved = {k: os.environ.get(k) for k in ("REQUESTS_CA_BUNDLE", "OTC_CA_FILE")}
    os.environ["REQUESTS_CA_BUNDLE"] = str(ca)
    os.environ["OTC_CA_FILE"] = str(ca)
    args = ["--tls-cert", str(cert), "--tls-key", str(key), "--application-id", APP_ID, "--public-key-file", str(pub)]
    try:
        with running_server(d, args, scheme="https") as url:
            yield url, url.split("://", 1)[1]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def client(host, private_key=PRIVATE_KEY, application_id=APP_ID):
    """The SDK's client, its video host pointed at our server."""
    return Vonage(
        Auth(application_id=application_id, private_key=private_key),
        HttpClientOptions(video_host=host, timeout=int(WAIT)),
    )


@pytest.fixture()
def video(tls_server):
    return client(tls_server[1]).video


@pytest.fixture()
def chats(tls_server, tmp_path):
    """chats(session_id, token, name, connect=True): chat clients of our
    application (closed at the end of the test)."""
    started = []

    def start(session_id, token, name, connect=True):
        c = Chat(tls_server[0], session_id, token, name, tmp_path, connect, api_key=APP_ID)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()


def token(video, sid, **options):
    t = video.generate_client_token(TokenOptions(session_id=sid, **options))
    return t.decode() if isinstance(t, bytes) else t


def claims(jwt):
    part = jwt.split(".")[1]
    import json

    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_create_session_with_and_without_options(video):
    plain = video.create_session()
    assert plain.session_id.startswith("1_")
    # The id names the application, as OpenTok's name the API key.
    body = plain.session_id[2:]
    fields = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("~")
    assert APP_ID in fields
    for options in (
        SessionOptions(media_mode="routed", archive_mode="always", e2ee=True),
        SessionOptions(media_mode="relayed", location="127.0.0.1", e2ee=False),
        SessionOptions(archive_mode="manual"),
    ):
        s = video.create_session(options)
        assert s.session_id.startswith("1_") and s.session_id != plain.session_id


def test_tokens_signals_and_force_disconnect(video, chats):
    sid = video.create_session(SessionOptions(media_mode="routed")).session_id
    alice_token = token(video, sid, role="moderator", connection_data="name=alice")
    c = claims(alice_token)
    assert c["application_id"] == APP_ID and c["scope"] == "session.connect" and c["session_id"] == sid
    bob_token = token(video, sid, connection_data="name=bob", initial_layout_class_list=["focus", "top"])

    alice = chats(sid, alice_token, "alice")
    bob = chats(sid, bob_token, "bob")
    alice.expect(r"^\* connection created: " + re.escape(bob.id) + r" data=name=bob$")
    bob.expect(r"^\* connection created: " + re.escape(alice.id) + r" data=name=alice$")

    video.send_signal(sid, SignalData(type="news", data="to everyone"))
    for ch in (alice, bob):
        assert ch.next_server_signal() == ("news", "to everyone")
    video.send_signal(sid, SignalData(type="dm", data="only bob"), connection_id=bob.id)
    assert bob.next_server_signal() == ("dm", "only bob")
    video.send_signal(sid, SignalData(type="news", data="second"))
    assert alice.next_server_signal() == ("news", "second"), "alice did not get bob's"
    assert bob.next_server_signal() == ("news", "second")

    # The client has now sent JSON, and labels its next form
    # application/json (it keeps the header): still a session.
    assert video.create_session(SessionOptions(e2ee=True)).session_id.startswith("1_")

    alice.send("hello bob")
    bob.expect(r"^\[" + re.escape(alice.id) + r"\] chat: hello bob$")

    video.disconnect_client(sid, bob.id)
    bob.expect(r"^\* disconnected$")
    alice.expect(r"^\* connection dropped: " + re.escape(bob.id) + "$")
    with pytest.raises(NotFoundError):
        video.disconnect_client(sid, bob.id)
    with pytest.raises(HttpRequestError) as e:
        video.send_signal(sid, SignalData(type="t", data="x" * 8192), connection_id="0123456789abcdef0123456789abcdef")
    assert e.value.response.status_code == 404


def test_another_key_is_refused_at_rest_and_at_the_door(tls_server, video, chats):
    sid = video.create_session().session_id
    forger = client(tls_server[1], private_key=rsa_pair()[0]).video
    with pytest.raises(ForbiddenError) as e:
        forger.create_session()
    assert "signature" in e.value.response.json()["message"]
    with pytest.raises(ForbiddenError):
        forger.send_signal(sid, SignalData(type="t", data="x"))
    stranger = client(tls_server[1], application_id=str(uuid.uuid4())).video
    with pytest.raises(ForbiddenError):
        stranger.create_session()
    c = chats(sid, token(forger, sid), "forged", connect=False)
    c.expect(r"^! error 1004: ")


def test_a_client_token_never_administers(tls_server, video):
    sid = video.create_session().session_id
    t = token(video, sid, role="moderator")
    r = requests.post(
        f"{tls_server[0]}/v2/project/{APP_ID}/session/{sid}/signal",
        headers={"Authorization": f"Bearer {t}"},
        json={"type": "t", "data": "x"},
        timeout=WAIT,
        proxies={"https": None},
    )
    assert r.status_code == 403
    assert "client token" in r.json()["message"]


def test_the_project_beside_the_application_still_works(tls_server):
    import opentok

    ot = opentok.Client(API_KEY, API_SECRET, api_url=tls_server[0], timeout=WAIT)
    ot.proxies = {"http": None, "https": None}
    assert ot.create_session().session_id.startswith("1_")
