"""Fixtures: otc-server on a free loopback port (stopped by its PID), tokens
and REST JWTs minted by the server binary itself, and the C chat example."""

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# The child-output reader and the link-cutting proxy are the Python SDK
# suite's (tests/python/harness.py, standard library and pytest only).
sys.path.insert(0, str(ROOT / "tests" / "python"))
from harness import Lines, Proxy  # noqa: E402
SERVER_BIN = os.environ.get("OTC_SERVER_BIN", str(ROOT / "target/debug/otc-server"))
CHAT_BIN = os.environ.get("OTC_CHAT_BIN", str(ROOT / "c-examples/bin/chat"))
API_KEY = "472033"
API_SECRET = secrets.token_hex(20)
WAIT = 20.0  # upper bound on any single wait

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTC_") or k == "OTC_LIBOPENTOK"}
    return env


def _cli(*args):
    out = subprocess.run([SERVER_BIN, *args, "--api-key", API_KEY, "--api-secret", API_SECRET],
                         capture_output=True, text=True, timeout=WAIT, env=_env())
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Server:
    def __init__(self, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [SERVER_BIN, "serve", "--listen", "127.0.0.1:0", "--api-key", API_KEY, "--api-secret", API_SECRET],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=_env())
        self.out = Lines(self.proc.stdout, "otc-server")
        self.url = self.out.expect(r"listening on (http://127\.0\.0\.1:\d+)").group(1)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
            return "killed"
        finally:
            self.log.close()


class Project:
    api_key = API_KEY

    def __init__(self, url):
        self.url = url

    def session_id(self):
        return _cli("create-session")

    def token(self, session_id, data=None):
        return _cli("token", "--session-id", session_id, *(["--data", data] if data else []))

    def event_stream(self):
        """The project's event stream (GET /v2/project/{key}/events), read
        on a thread: a queue of its lines, after the `ready` message."""
        req = urllib.request.Request(
            f"{self.url}/v2/project/{API_KEY}/events", headers={"X-OPENTOK-AUTH": _cli("rest-token")})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        resp = opener.open(req, timeout=WAIT)
        lines = queue.Queue()

        def pump():
            try:
                for raw in resp:
                    lines.put(raw.decode("utf-8").rstrip("\n"))
            except (OSError, ValueError):
                pass

        threading.Thread(target=pump, daemon=True).start()
        assert lines.get(timeout=WAIT) == "event: ready"
        return lines

    def rest_signal(self, session_id, type_, data, connection_id=None):
        path = f"/v2/project/{API_KEY}/session/{session_id}"
        if connection_id:
            path += f"/connection/{connection_id}"
        req = urllib.request.Request(
            self.url + path + "/signal", method="POST",
            data=json.dumps({"type": type_, "data": data}).encode(),
            headers={"Content-Type": "application/json", "X-OPENTOK-AUTH": _cli("rest-token")})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=WAIT) as r:
            return r.status


@pytest.fixture(scope="session")
def project(tmp_path_factory):
    assert os.access(SERVER_BIN, os.X_OK), f"no otc-server at {SERVER_BIN} (set OTC_SERVER_BIN)"
    s = Server(tmp_path_factory.mktemp("server") / "otc-server.log")
    try:
        yield Project(s.url)
    finally:
        assert s.stop() == 0, "otc-server did not shut down cleanly"


class Chat:
    def __init__(self, url, session_id, token, tmp_path):
        self.proc = subprocess.Popen(
            [CHAT_BIN, "--server", url, "--linger", "0", "--timeout", str(int(WAIT)), API_KEY, session_id, token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
        self.out = Lines(self.proc.stdout, "chat")
        self.id = self.out.expect(r"^\* connected as (\S+)$").group(1)

    def expect(self, pattern, timeout=WAIT):
        return self.out.expect(pattern, timeout)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("/quit\n")
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        return self.proc.returncode


@pytest.fixture()
def proxy(project):
    """A link-cutting TCP proxy in front of the server (`proxy.url`)."""
    p = Proxy(int(project.url.rsplit(":", 1)[1]))
    try:
        yield p
    finally:
        p.close()


@pytest.fixture()
def chat(project, tmp_path):
    if not os.access(CHAT_BIN, os.X_OK):
        pytest.skip(f"no C chat example at {CHAT_BIN}")
    started = []

    def start(session_id, token):
        c = Chat(project.url, session_id, token, tmp_path)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()
