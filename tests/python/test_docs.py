"""The snippets of README.md and docs/*.md that are meant to be run, run as
shown.

A snippet to run is marked in the Markdown by a line
`<!-- doc-test: NAME -->` right before its code block (invisible once
rendered); the test of NAME below provides what the text around the snippet
says it needs (a running server with no flags, a participant in the
session, the repository root as working directory, `otc-server` on PATH,
`make` done). Every Python snippet must be marked, and every marker must
have a test here.

Two things differ from a reader's machine, and only these: the server runs
on a free loopback port instead of 127.0.0.1:4443 (other tests may hold
that one), so that address is replaced in the snippet's text and given to
libopentok clients as OTC_SERVER_URL; and the working directory is a
scratch copy of the parts of the repository a snippet uses (links to
c-examples/bin/chat and c-examples/chat.c), so nothing is written into the
checkout. An install snippet runs in the repository with HOME in a scratch
directory.
"""

import hashlib
import http.server
import json
import os
import queue
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from harness import API_KEY, API_SECRET, WAIT, DEV_API_KEY, Lines, Server, binary, clean_env, running_server

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEFAULT_URL = "http://127.0.0.1:4443"
MARK = re.compile(r"^<!-- doc-test: ([a-z0-9-]+) -->$")

TESTED = {
    "readme-tokens",
    "readme-install",
    "readme-c-build",
    "readme-curl",
    "readme-python",
    "readme-pybind",
    "rest-curl",
    "rest-pyjwt",
    "rest-python",
    "rest-callback-verify",
}

# Markers whose snippet another suite runs (not Python, or needing tools this
# suite does not have): marker -> the file, relative to the repository root,
# that extracts and runs it. That file must name the marker.
TESTED_ELSEWHERE = {
    "readme-csharp": "bindings/csharp/run-tests.sh",
}


def blocks():
    """(doc, marker name or None, language, text) of every fenced block."""
    out = []
    for doc in DOCS:
        lines = doc.read_text().splitlines()
        i = 0
        mark = None
        while i < len(lines):
            line = lines[i]
            m = MARK.match(line)
            if m:
                mark = m.group(1)
                i += 1
                continue
            if line.startswith("```"):
                lang = line[3:].strip()
                j = i + 1
                while j < len(lines) and not lines[j].startswith("```"):
                    j += 1
                out.append((doc.relative_to(ROOT), mark, lang, "\n".join(lines[i + 1 : j]) + "\n"))
                i = j + 1
                mark = None
                continue
            if line.strip():
                mark = None  # a marker applies to the very next block only
            i += 1
    return out


def snippets(name):
    """The text of the blocks marked `name`, in document order."""
    found = [text for _, mark, _, text in blocks() if mark == name]
    assert found, f"no block is marked doc-test: {name}"
    return found


def test_every_python_snippet_is_run_and_every_marker_is_known():
    for doc, mark, lang, text in blocks():
        if lang == "python":
            assert mark is not None, f"a Python snippet of {doc} is not marked for a test:\n{text}"
        if mark is not None:
            assert mark in TESTED or mark in TESTED_ELSEWHERE, f"{doc}: marker doc-test: {mark} has no test in {__file__}"
    marks = {mark for _, mark, _, _ in blocks()}
    assert TESTED <= marks, f"markers no document has any more: {TESTED - marks}"
    assert set(TESTED_ELSEWHERE) <= marks, f"markers no document has any more: {set(TESTED_ELSEWHERE) - marks}"
    assert not TESTED & set(TESTED_ELSEWHERE), "a marker is tested here and elsewhere"
    for mark, runner in TESTED_ELSEWHERE.items():
        path = ROOT / runner
        assert path.is_file(), f"doc-test: {mark} is said to be run by {runner}, which does not exist"
        assert f"doc-test: {mark}" in path.read_text(), f"{runner} does not mention doc-test: {mark}"


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory):
    """otc-server with no project flags (the development project), as the
    docs start it, on a free loopback port."""
    s = Server(tmp_path_factory.mktemp("docs-server") / "otc-server.log")
    try:
        yield s
    finally:
        assert s.stop() == 0


@pytest.fixture()
def workdir(tmp_path):
    """A scratch working directory with what the snippets use of the
    repository."""
    (tmp_path / "c-examples" / "bin").mkdir(parents=True)
    (tmp_path / "c-examples" / "bin" / "chat").symlink_to(binary("OTC_CHAT_BIN"))
    (tmp_path / "c-examples" / "chat.c").symlink_to(ROOT / "c-examples" / "chat.c")
    return tmp_path


def snippet_env(server, **extra):
    """What a reader's shell has: otc-server on PATH, no OTC_* settings of
    ours; plus where the server really is."""
    path = os.path.dirname(binary("OTC_SERVER_BIN")) + os.pathsep + os.environ.get("PATH", "")
    env = clean_env(PATH=path, **extra)
    if server is not None:
        env["OTC_SERVER_URL"] = server.url
    return env


def run_shell(text, cwd, env, timeout=120):
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", text], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def run_python(text, cwd, env, timeout=60):
    path = Path(cwd) / "snippet.py"
    path.write_text(text)
    return subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def codes(text):
    """The HTTP statuses a snippet's comments promise (`# 204`), in order."""
    return re.findall(r"#\s*(\d{3})\s*$", text, flags=re.M)


def cli(server, *args):
    out = subprocess.run(
        [binary("OTC_SERVER_BIN"), *args], env=snippet_env(server), capture_output=True, text=True, timeout=WAIT
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Participant:
    """The chat example in a session of the development project, as the
    docs have one join "in another terminal"."""

    def __init__(self, server, session_id, workdir):
        token = cli(server, "token", "--session-id", session_id)
        self.proc = subprocess.Popen(
            [binary("OTC_CHAT_BIN"), "--timeout", str(int(WAIT)), DEV_API_KEY, session_id, token],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=snippet_env(server),
            cwd=workdir,
        )
        self.out = Lines(self.proc.stdout, "participant")
        self.id = self.out.expect(r"^\* connected as (\S+)$").group(1)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


# --- README.md ---------------------------------------------------------------


def test_readme_tokens(dev_server, workdir):
    (text,) = snippets("readme-tokens")
    out = run_shell(text, workdir, snippet_env(dev_server))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert len(lines) == 2, out.stdout
    assert lines[0].count(".") == 2 and lines[1].startswith("T1=="), out.stdout


def test_readme_install_and_c_build(workdir, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    # A fresh HOME; the Rust toolchain stays where it is.
    env = clean_env(
        HOME=str(home),
        RUSTUP_HOME=os.environ.get("RUSTUP_HOME", os.path.expanduser("~/.rustup")),
        CARGO_HOME=os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo")),
    )
    (install,) = snippets("readme-install")
    out = run_shell(install, ROOT, env, timeout=1800)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (home / ".local" / "lib" / "pkgconfig" / "libopentok.pc").is_file()
    (build,) = snippets("readme-c-build")
    out = run_shell(build, workdir, env)
    assert out.returncode == 0, out.stderr
    assert "/to <connection-id> <text>" in out.stdout, out.stdout


def test_readme_curl(dev_server, workdir):
    (text,) = snippets("readme-curl")
    sid = cli(dev_server, "create-session")
    someone = Participant(dev_server, sid, workdir)
    try:
        out = run_shell(text.replace(DEFAULT_URL, dev_server.url), workdir, snippet_env(dev_server, SESSION=sid))
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == codes(text) == ["204"], out.stdout
        someone.out.expect(r"^\[server\] news: hello from the server$")
    finally:
        someone.close()


def check_sdk_snippet(name, dev_server, workdir):
    (text,) = snippets(name)
    out = run_python(text.replace(DEFAULT_URL, dev_server.url), workdir, snippet_env(dev_server))
    assert out.returncode == 0, out.stdout + out.stderr
    seen = out.stdout.splitlines()
    for line in ("[server] news: hello", "[server] dm: just you", "* disconnected"):
        assert line in seen, f"{name}: the client printed {seen}"


def test_readme_python(dev_server, workdir):
    check_sdk_snippet("readme-python", dev_server, workdir)


def test_readme_pybind(dev_server, workdir):
    """The Python binding's five lines, with what the text around them
    leaves to the reader (credentials; a program that stays up until told
    to stop), beside the chat example."""
    (text,) = snippets("readme-pybind")
    sid = cli(dev_server, "create-session")
    someone = Participant(dev_server, sid, workdir)
    prelude = (
        "import sys\n"
        f"api_key, session_id = {DEV_API_KEY!r}, {sid!r}\n"
        f"token = {cli(dev_server, 'token', '--session-id', sid)!r}\n"
    )
    # Stays up until stdin closes, then leaves.
    postlude = "\nsys.stdin.read()\ns.disconnect()\ns.close()\n"
    path = Path(workdir) / "pybind_snippet.py"
    path.write_text(prelude + text.replace(DEFAULT_URL, dev_server.url) + postlude)
    lib = Path(binary("OTC_SERVER_BIN")).parent / "libopentok.so"
    env = snippet_env(
        dev_server, OTC_LIBOPENTOK=str(lib), PYTHONPATH=str(ROOT / "bindings" / "python" / "src"), PYTHONUNBUFFERED="1"
    )
    snippet = subprocess.Popen(
        [sys.executable, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=workdir,
    )
    out = Lines(snippet.stdout, "pybind snippet")
    try:
        # on_connected's broadcast reaches the C client ...
        who = someone.out.expect(r"^\[(\S+)\] chat: hello from Python$").group(1)
        # ... and the C client's line reaches on_signal, with its sender.
        someone.proc.stdin.write("hello from C\n")
        someone.proc.stdin.flush()
        out.expect(rf"^chat hello from C {re.escape(someone.id)}$")
        assert who != someone.id
        snippet.stdin.close()
        assert snippet.wait(timeout=WAIT) == 0
    finally:
        if snippet.poll() is None:
            snippet.kill()
            snippet.wait(timeout=5)
        someone.close()


# --- docs/rest.md --------------------------------------------------------------


def test_rest_python(dev_server, workdir):
    check_sdk_snippet("rest-python", dev_server, workdir)


def test_rest_pyjwt(dev_server, workdir):
    (text,) = snippets("rest-pyjwt")
    out = run_python(text + "\nprint(JWT)\n", workdir, snippet_env(dev_server))
    assert out.returncode == 0, out.stderr
    jwt = out.stdout.strip()
    # The token it makes is a REST credential.
    req = urllib.request.Request(
        dev_server.url + "/session/create",
        data=b"",
        method="POST",
        headers={"X-OPENTOK-AUTH": jwt, "Accept": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=WAIT) as res:
        assert res.status == 200
        assert json.load(res)[0]["session_id"].startswith("1_")


def test_rest_curl_walkthrough(dev_server, workdir):
    parts = snippets("rest-curl")
    text = "\n".join(parts)
    # Run as typed one after the other; `echo` ends the JSON answers' lines.
    script = "\necho\n".join(parts)
    # After the snippets: wait (bounded) for the background participant,
    # which the last call forced out.
    epilogue = "\nfor _ in $(seq 100); do [ -z \"$(jobs -rp)\" ] && break; sleep 0.1; done\n"
    epilogue += 'if [ -n "$(jobs -rp)" ]; then echo "participant still running"; kill $(jobs -rp); fi\n'
    out = run_shell(script.replace(DEFAULT_URL, dev_server.url) + epilogue, workdir, snippet_env(dev_server))
    assert out.returncode == 0, out.stdout + out.stderr
    got = [line for line in out.stdout.splitlines() if re.fullmatch(r"\d{3}", line)]
    assert got == codes(text), f"statuses {got}, the doc says {codes(text)}:\n{out.stdout}"
    assert '"items":[{"connectionId"' in out.stdout, out.stdout
    assert "participant still running" not in out.stdout, "the force-disconnected chat did not exit"
    log = (workdir / "chat.log").read_text()
    for line in ("[server] news: hello from the server", "[server] dm: just for you", "[server] chat: hi", "* disconnected"):
        assert line in log.splitlines(), f"the participant printed:\n{log}"


def test_rest_callback_verify(tmp_path, workdir):
    """The receiver's check of docs/rest.md, run on the callbacks a real
    server sends (and on a tampered one, which it must refuse)."""
    import jwt  # PyJWT, which the official SDK depends on

    (text,) = snippets("rest-callback-verify")
    outcomes = queue.Queue()

    def check(auth, body):
        scope = {"jwt": jwt, "hashlib": hashlib, "auth": auth, "body": body,
                 "secret": API_SECRET, "api_key": API_KEY}
        try:
            exec(text, scope)  # noqa: S102 - the documented snippet itself
            return None
        except Exception as e:  # noqa: BLE001
            return e

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            auth = self.headers.get("Authorization", "")
            outcomes.put((check(auth, body), check(auth, body.replace(b"connection", b"connectiom")), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        cb = f"http://127.0.0.1:{receiver.server_address[1]}/cb"
        with running_server(tmp_path, ("--callback-url", cb)) as url:
            sid = subprocess.run(
                [binary("OTC_SERVER_BIN"), "create-session", "--api-key", API_KEY, "--api-secret", API_SECRET],
                capture_output=True, text=True, timeout=WAIT, env=clean_env(), check=True,
            ).stdout.strip()
            token = subprocess.run(
                [binary("OTC_SERVER_BIN"), "token", "--session-id", sid, "--api-key", API_KEY,
                 "--api-secret", API_SECRET],
                capture_output=True, text=True, timeout=WAIT, env=clean_env(), check=True,
            ).stdout.strip()
            chat = subprocess.Popen(
                [binary("OTC_CHAT_BIN"), "--server", url, "--timeout", str(int(WAIT)), API_KEY, sid, token],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env=clean_env(),
            )
            try:
                Lines(chat.stdout, "chat").expect(r"^\* connected as ")
                good, tampered, body = outcomes.get(timeout=WAIT)
                assert good is None, f"the documented check refused a real callback: {good!r}"
                assert tampered is not None, "the documented check accepted a tampered body"
                event = json.loads(body)
                assert (event["event"], event["sessionId"], event["projectId"]) == ("connectionCreated", sid, API_KEY)
            finally:
                chat.stdin.close()
                chat.wait(timeout=WAIT)
    finally:
        receiver.shutdown()

