"""Helpers of the Python suite: otc-server and the C chat example
(c-examples/chat.c) as child processes whose output lines a test waits for,
every wait bounded, and a TCP proxy that can cut links.

The binaries come from OTC_SERVER_BIN and OTC_CHAT_BIN (tests/python/run.sh
builds both and sets them).
"""

import contextlib
import datetime
import ipaddress
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time

import pytest

# A project of our own (not the server's built-in development one), so the
# key and secret really go from the command line to the SDK's checks.
API_KEY = "472032"
API_SECRET = secrets.token_hex(20)

# The built-in development project (server/README.md).
DEV_API_KEY = "100000"

WAIT = 20.0  # seconds; an upper bound on any single wait, not a timing test

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


def binary(var):
    path = os.environ.get(var)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"{var} must name an executable (tests/python/run.sh sets it); got {path!r}")
    return path


def clean_env(**extra):
    """The environment without OTC_* variables (the server and the library
    read them as settings), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTC_")}
    env.update(extra)
    return env


class Lines:
    """Collects the lines a child process writes, so a test can wait for
    one that matches without blocking forever."""

    def __init__(self, stream, name):
        self.name = name
        self.all = []
        self._q = queue.Queue()
        self._t = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._t.start()

    def _pump(self, stream):
        for line in stream:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def expect(self, pattern, timeout=WAIT):
        """Returns the match of the first new line matching `pattern`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"{self.name} ended before printing /{pattern}/; it printed {self.all}")
            self.all.append(line)
            m = rx.search(line)
            if m:
                return m
        raise AssertionError(f"{self.name} printed no /{pattern}/ within {timeout}s; it printed {self.all}")


class Server:
    """otc-server on a free loopback port; stop() sends SIGTERM (a graceful
    shutdown) and returns the exit status."""

    def __init__(self, log_path, *args, scheme="http"):
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary("OTC_SERVER_BIN"), "serve", "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=clean_env(),
        )
        self.out = Lines(self.proc.stdout, "otc-server")
        try:
            self.url = self.out.expect(rf"listening on ({scheme}://127\.0\.0\.1:\d+)").group(1)
        except AssertionError:
            self.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            code = "killed"
        self._log.close()
        if code != 0:
            print(open(self.log_path).read())
        return code


@contextlib.contextmanager
def running_server(log_dir, extra_args=(), scheme="http"):
    """A Server of our project for one `with` block; it must exit 0."""
    s = Server(log_dir / "otc-server.log", "--api-key", API_KEY, "--api-secret", API_SECRET,
               *extra_args, scheme=scheme)
    try:
        yield s.url
    finally:
        code = s.stop()
        assert code == 0, f"otc-server did not shut down cleanly ({code}); log: {s.log_path}"


class Chat:
    """One c-examples/chat process in a session. `extra` are more options
    (before the positional arguments)."""

    def __init__(self, server, session_id, token, name, tmp_path, connect=True, api_key=API_KEY, extra=()):
        self.name = name
        id_file = tmp_path / f"{name}.id"
        self.proc = subprocess.Popen(
            [
                binary("OTC_CHAT_BIN"),
                "--server",
                server,
                "--id-file",
                str(id_file),
                "--linger",
                "0",
                "--timeout",
                str(int(WAIT)),
                *extra,
                api_key,
                session_id,
                token,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.out = Lines(self.proc.stdout, f"chat {name}")
        self.id = self.out.expect(r"^\* connected as (\S+)$").group(1) if connect else None

    def expect(self, pattern, timeout=WAIT):
        return self.out.expect(pattern, timeout)

    def send(self, line):
        """One line of input: a chat line or a command."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def next_server_signal(self):
        """(type, data) of the next signal with a NULL connection."""
        m = self.expect(r"^\[server\] ([^:]*): (.*)$")
        return m.group(1), m.group(2)

    def wait(self, timeout=WAIT):
        """The exit status, once the process has ended (within `timeout`)."""
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("/quit\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


class Proxy:
    """A TCP proxy on a free loopback port to `port`; cut() closes every link
    through it (as a network failure would), new links keep being accepted
    unless `refusing` is set (then each is closed as soon as it is accepted:
    the server is unreachable until it is cleared)."""

    def __init__(self, port):
        self._target = ("127.0.0.1", port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._links = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.accepted = 0
        self.refusing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=WAIT)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.settimeout(None)
            with self._lock:
                self._links.append((client, upstream))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self._lock:
            links, self._links = self._links, []
        for pair in links:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self._stop.set()
        self.cut()
        self._listener.close()


def wait_for(predicate, what, timeout=WAIT):
    """Polls `predicate` every 0.05 s until it is true, at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")


def make_tls_files(d):
    """A private CA and a server certificate it signs for 127.0.0.1 and
    localhost; returns the paths of (CA certificate, server certificate,
    server key), PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("otc-server python test CA"))
        .issuer_name(name("otc-server python test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (d / "ca.pem", d / "cert.pem", d / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths
