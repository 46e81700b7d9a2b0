import asyncio
import logging
import subprocess
import sys
import time

import pytest

from opentok_signal import AsyncSession, Connection, OpenTokError, Session
from recorder import WAIT, Recorder


def joined(project, sid, data=None):
    s = Session(project.api_key, sid, project.url)
    rec = Recorder(s)
    s.connect(project.token(sid, data))
    rec.expect("connected")
    return s, rec


def test_connect_own_connection_and_disconnect(project):
    sid = project.session_id()
    s, rec = joined(project, sid, data="name=py")
    try:
        me = s.connection
        assert isinstance(me, Connection) and me.id and me.data == "name=py" and me.creation_time > 0
        s.disconnect()
        rec.expect("disconnected")
        assert s.connection is None
    finally:
        s.close()


def test_two_python_sessions_signals_and_connection_events(project):
    sid = project.session_id()
    a, ra = joined(project, sid, data="a")
    b, rb = joined(project, sid, data="b")
    try:
        created = ra.expect("connection_created").connection
        assert created.id == b.connection.id and created.data == "b"
        rb.expect("connection_created", lambda e: e.connection.id == a.connection.id)
        a.signal("hello", "everyone")
        for r in (ra, rb):
            ev = r.expect("signal", lambda e: e.type == "hello")
            assert ev.data == "everyone" and ev.from_.id == a.connection.id
        a.signal("dm", "just b", to=created)
        ev = rb.expect("signal", lambda e: e.type == "dm")
        assert ev.data == "just b" and ev.from_.id == a.connection.id
        results = []
        a.signal("list", "x", to=[b.connection.id], on_complete=results.append)
        rb.expect("signal", lambda e: e.type == "list")
        deadline = time.monotonic() + WAIT
        while not results and time.monotonic() < deadline:
            time.sleep(0.01)
        assert results == [0]
        b.close()
        assert ra.expect("connection_dropped").connection.id == created.id
    finally:
        a.close()
        b.close()


def test_with_c_chat_client_both_ways(project, chat):
    sid = project.session_id()
    s, rec = joined(project, sid)
    c = chat(sid, project.token(sid))
    try:
        rec.expect("connection_created", lambda e: e.connection.id == c.id)
        c.send("hi from c")
        ev = rec.expect("signal", lambda e: e.type == "chat")
        assert ev.data == "hi from c" and ev.from_.id == c.id
        c.send(f"/to {s.connection.id} private to py")
        ev = rec.expect("signal", lambda e: e.type == "private")
        assert ev.data == "private to py" and ev.from_.id == c.id
        s.signal("chat", "hi from py")
        c.expect(rf"^\[{s.connection.id}\] chat: hi from py$")
        s.signal("private", "secret", to=c.id)
        c.expect(rf"^\[{s.connection.id} -> {c.id}\] private: secret$")
    finally:
        s.close()


def test_rest_signal_has_no_sender(project):
    sid = project.session_id()
    s, rec = joined(project, sid)
    try:
        assert 200 <= project.rest_signal(sid, "news", "from the server") < 300
        ev = rec.expect("signal", lambda e: e.type == "news")
        assert ev.data == "from the server" and ev.from_ is None
        project.rest_signal(sid, "dm", "one", connection_id=s.connection.id)
        assert rec.expect("signal", lambda e: e.type == "dm").from_ is None
    finally:
        s.close()


@pytest.mark.parametrize("kwargs,code,name", [
    (dict(type="t" * 129), 1414, "OTC_SESSION_SIGNAL_TYPE_TOO_LONG"),
    (dict(type="bad type!"), 1461, "OTC_SESSION_INVALID_SIGNAL_TYPE"),
    (dict(type="ok", data="x" * 8193), 1413, "OTC_SESSION_SIGNAL_DATA_TOO_LONG"),
])
def test_bad_signal_raises(project, kwargs, code, name):
    sid = project.session_id()
    s, _ = joined(project, sid)
    try:
        for to in (None, s.connection):
            with pytest.raises(OpenTokError) as e:
                s.signal(to=to, **kwargs)
            assert (e.value.code, e.value.name) == (code, name)
    finally:
        s.close()


def test_not_connected_and_illegal_state(project):
    sid = project.session_id()
    s = Session(project.api_key, sid, project.url)
    try:
        with pytest.raises(OpenTokError) as e:
            s.signal("x", "y")
        assert e.value.code == 1010
        with pytest.raises(OpenTokError) as e:
            s.disconnect()
        assert e.value.code == 1010
        with pytest.raises(OpenTokError) as e:
            s.connect("")
        assert e.value.code == 1011
    finally:
        s.close()
    with pytest.raises(OpenTokError) as e:
        Session(project.api_key, sid, "ftp://nope")
    assert e.value.code == 1011


def test_refused_token_reports_error(project):
    s = Session(project.api_key, project.session_id(), project.url)
    rec = Recorder(s)
    try:
        s.connect("T1==bogus")
        ev = rec.expect("error")
        assert ev.code == 1004 and ev.name == "OTC_SESSION_AUTHORIZATION_FAILURE"
        rec.expect("disconnected")
    finally:
        s.close()


def test_handler_exception_is_logged_not_fatal(project, caplog):
    sid = project.session_id()

    def boom(session, type_, data, from_):
        raise RuntimeError("handler failure")

    s, rec = joined(project, sid)
    s.on_signal = boom
    try:
        with caplog.at_level(logging.ERROR, logger="opentok_signal"):
            s.signal("a", "1")
            s.signal("b", "2")
            rec.expect("signal", lambda e: e.type == "b")
        assert "handler failure" in caplog.text
    finally:
        s.close()


def test_asyncio_adapter(project):
    sid = project.session_id()

    async def main():
        async with AsyncSession(project.api_key, sid, project.url) as a, \
                AsyncSession(project.api_key, sid, project.url) as b:
            await a.connect(project.token(sid))
            await b.connect(project.token(sid))
            sig_id = await a.signal("async", "hello", to=b.connection)
            assert sig_id > 0
            assert await a.signal("async", "all") > 0
            got = []
            async for ev in b.events():
                if ev.kind == "signal":
                    got.append((ev.type, ev.data, ev.from_.id))
                    if len(got) == 2:
                        break
            assert got == [("async", "hello", a.connection.id), ("async", "all", a.connection.id)]
            with pytest.raises(OpenTokError) as e:
                await a.signal("async", "gone", to="no-such-connection")
            assert e.value.code == 1600
            with pytest.raises(OpenTokError) as e:
                await a.signal("t" * 200)
            assert e.value.code == 1414
            await a.disconnect()

    asyncio.run(asyncio.wait_for(main(), 3 * WAIT))


def test_reconnection_through_a_cut_link(project, proxy, chat):
    """The link of a Python session is cut (and the server kept unreachable
    a while): the session resumes the same connection, what was sent either
    way in the gap arrives exactly once, and a send that asked not to be
    retried is refused at once."""
    sid = project.session_id()
    s = Session(project.api_key, sid, proxy.url)
    rec = Recorder(s)
    c = chat(sid, project.token(sid))
    try:
        s.connect(project.token(sid))
        rec.expect("connected")
        me = s.connection.id
        rec.expect("connection_created", lambda e: e.connection.id == c.id)
        proxy.refusing = True
        proxy.cut()
        rec.expect("reconnecting")
        s.signal("chat", "queued in the gap")  # retry_after_reconnect=True: held
        with pytest.raises(OpenTokError) as e:
            s.signal("chat", "not to be retried", retry_after_reconnect=False)
        assert e.value.code == 1010
        c.send("sent while py was away")
        c.expect(rf"^\[{c.id} \(own\)\] chat: sent while py was away$")
        proxy.refusing = False
        rec.expect("reconnected")
        assert s.connection.id == me
        ev = rec.expect("signal", lambda e: e.data == "sent while py was away")
        assert ev.from_.id == c.id
        c.expect(rf"^\[{me}\] chat: queued in the gap$")
        # Nothing twice, nothing refused: a marker sent after both ways.
        s.signal("chat", "after")
        c.expect(rf"^\[{me}\] chat: after$")
        c.send("after too")
        rec.expect("signal", lambda e: e.data == "after too")
        c_lines = [line for line in c.out.all if "chat:" in line and line.startswith(f"[{me}]")]
        assert c_lines == [f"[{me}] chat: queued in the gap", f"[{me}] chat: after"], c.out.all
        py_gap = [ev for ev in rec.seen if ev.kind == "signal" and ev.data == "sent while py was away"]
        assert len(py_gap) == 1, rec.seen
        # The C client saw no drop: same connection, never dropped.
        assert not [line for line in c.out.all if line.startswith("* connection dropped")], c.out.all
    finally:
        s.close()


def test_unresumable_link_ends_in_error_and_disconnected(project, proxy):
    """When the server stays unreachable past the resume window, the
    session reports the drop and ends; sends are refused after."""
    sid = project.session_id()
    s = Session(project.api_key, sid, proxy.url, reconnection_window_ms=1500)
    rec = Recorder(s)
    try:
        s.connect(project.token(sid))
        rec.expect("connected")
        proxy.refusing = True
        proxy.cut()
        rec.expect("reconnecting")
        ev = rec.expect("error")
        assert ev.code == 1022, ev
        rec.expect("disconnected")
        with pytest.raises(OpenTokError) as e:
            s.signal("chat", "too late")
        assert e.value.code == 1010
    finally:
        s.close()


def test_connection_events_suppressed(project, chat):
    """With connection events suppressed, a session hears signals but no
    one's arrival or departure."""
    sid = project.session_id()
    s = Session(project.api_key, sid, project.url, connection_events_suppressed=True)
    rec = Recorder(s)
    try:
        s.connect(project.token(sid))
        rec.expect("connected")
        c = chat(sid, project.token(sid))
        c.send("hello quiet one")
        rec.expect("signal", lambda e: e.data == "hello quiet one")
        assert c.close() == 0
        s.signal("chat", "marker")
        rec.expect("signal", lambda e: e.data == "marker")
        kinds = {ev.kind for ev in rec.seen}
        assert not kinds & {"connection_created", "connection_dropped"}, rec.seen
    finally:
        s.close()


def test_exit_with_a_session_open_leaves_cleanly(project, chat):
    """A program that ends while connected exits with status 0, and the
    others see it leave at once (it disconnected), not after the grace."""
    sid = project.session_id()
    c = chat(sid, project.token(sid))
    program = (
        "import sys, threading\n"
        "from opentok_signal import Session\n"
        "joined = threading.Event()\n"
        "s = Session(sys.argv[1], sys.argv[2], sys.argv[3], on_connected=lambda s: joined.set(),\n"
        "            on_signal=lambda s, t, d, f: print('heard', t, d, flush=True))\n"
        "s.connect(sys.argv[4])\n"
        "assert joined.wait(20)\n"
        "print('joined', s.connection.id, flush=True)\n"
        "s.signal('chat', 'bye')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program, project.api_key, sid, project.url, project.token(sid)],
        capture_output=True, text=True, timeout=WAIT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    me = out.stdout.split("joined ", 1)[1].split()[0]
    c.expect(rf"^\* connection dropped: {me}$", timeout=10)  # the grace is 30 s


def test_signal_to_the_application_server(project):
    """A signal to the application server reaches its event stream (and no
    participant); on_complete says whether it got there."""
    sid = project.session_id()
    s, rec = joined(project, sid)
    try:
        results = []
        s.signal_to_server("order", "nobody listens", on_complete=results.append)
        deadline = time.monotonic() + WAIT
        while not results and time.monotonic() < deadline:
            time.sleep(0.01)
        assert results == [1600], "no callback URL and no event stream: not listening"
        stream = project.event_stream()
        done = []
        sig_id = s.signal_to_server("order", "two pizzas", on_complete=done.append)
        assert sig_id > 0
        line = ""
        deadline = time.monotonic() + WAIT
        while "two pizzas" not in line and time.monotonic() < deadline:
            line = stream.get(timeout=WAIT)
        assert s.connection.id in line, line
        while not done and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done == [0]
        with pytest.raises(OpenTokError) as e:
            s.signal_to_server("bad type!", "x")
        assert e.value.code == 1461
        s.signal("marker", "end")
        rec.expect("signal", lambda e: e.type == "marker")
        assert not [ev for ev in rec.seen if ev.kind == "signal" and ev.type == "order"]
    finally:
        s.close()
