import asyncio
import logging
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
