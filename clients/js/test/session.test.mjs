// Sessions against the real otc-server: joining, signals to everyone, to
// one and to a list, per-type listeners, connection events, REST signals,
// validation, the Promise form, refusals by the server.

import test from "node:test";
import assert from "node:assert/strict";

import { initSession, Connection, ErrorCode } from "../dist/index.js";
import { API_KEY, newSessionId, restSignal, restToken, startServer, token, until, within, sleep } from "./harness.mjs";
import { join, leave, ofType, quiet, signals } from "./clients.mjs";

let server;
test.before(async () => {
  server = await startServer(["--ping-interval-ms", "500", "--idle-timeout-ms", "3000", "--reconnect-grace-ms", "3000"]);
});
test.after(async () => {
  await server?.stop();
});

test("two clients join: own connection, connection events both ways, in the C library's order", async () => {
  const sid = newSessionId();
  const before = Date.now();
  const a = await join(server.url, sid, { data: "name=alice" });
  assert.equal(a.state, "connected");
  assert.ok(a.isConnected());
  const me = a.connection;
  assert.ok(me instanceof Connection);
  assert.match(me.connectionId, /^[0-9a-f]{32}$/);
  assert.equal(me.data, "name=alice");
  assert.ok(me.creationTime >= before - 60_000 && me.creationTime <= Date.now() + 60_000, `${me.creationTime}`);
  const b = await join(server.url, sid, { data: "name=bob" });
  await until(() => ofType(a, "connectionCreated").length === 1 && ofType(b, "connectionCreated").length === 1, "connectionCreated");
  assert.equal(ofType(a, "connectionCreated")[0].connection.connectionId, b.connection.connectionId);
  assert.equal(ofType(a, "connectionCreated")[0].connection.data, "name=bob");
  // B was told of A, already there: sessionConnected, then connectionCreated.
  assert.deepEqual(b.seen.map(([t]) => t), ["sessionConnected", "connectionCreated"]);
  const [, created] = b.seen[1];
  assert.equal(created.connection.connectionId, me.connectionId);
  assert.equal(created.connection.data, "name=alice");
  assert.equal(created.target, b);
  assert.equal(b.connections.get(me.connectionId).data, "name=alice");
  assert.deepEqual(ofType(b, "sessionConnected")[0].connections.map((c) => c.connectionId), [me.connectionId]);

  const B = b.connection.connectionId;
  await leave(b);
  await until(() => ofType(a, "connectionDestroyed").length === 1, "connectionDestroyed");
  const gone = ofType(a, "connectionDestroyed")[0];
  assert.equal(gone.connection.connectionId, B);
  assert.equal(gone.reason, "clientDisconnected");
  assert.equal(gone.connection.data, "name=bob");
  assert.deepEqual(ofType(b, "sessionDisconnected").map((e) => e.reason), ["clientDisconnected"]);
  assert.equal(b.connection, undefined);
  assert.equal(b.state, "disconnected");
  await assert.rejects(b.signal({ data: "late" }), (e) => e.code === 1010);
  assert.equal(ofType(a, "exception").length + ofType(b, "exception").length, 0);
  await leave(a);
});

test("broadcast reaches everyone, the sender included; targeted signals only their targets", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  const c = await join(server.url, sid);
  const [A, B, C] = [a, b, c].map((s) => s.connection.connectionId);
  await a.signal({ type: "chat", data: "to all" });
  await a.signal({ type: "dm", data: "to b", to: b.connection });
  await a.signal({ type: "list", data: "to b and c", to: [b.connection, C] });
  await a.signal({ data: "untyped to c", to: [c.connection] });
  await a.signal({ type: "empty-list", data: "everyone again", to: [] });
  await until(() => signals(a).length === 2 && signals(b).length === 4 && signals(c).length === 4, "deliveries");
  await sleep(100); // nothing more arrives
  assert.deepEqual(signals(a), [["chat", "to all", A], ["empty-list", "everyone again", A]]);
  assert.deepEqual(signals(b), [["chat", "to all", A], ["dm", "to b", A], ["list", "to b and c", A], ["empty-list", "everyone again", A]]);
  assert.deepEqual(signals(c), [["chat", "to all", A], ["list", "to b and c", A], ["", "untyped to c", A], ["empty-list", "everyone again", A]]);
  // The sender's own broadcast comes from its own Connection object; others from the peer's.
  assert.equal(ofType(a, "signal")[0].from, a.connection);
  assert.equal(ofType(b, "signal")[0].from, b.connections.get(A));
  assert.equal(ofType(b, "signal")[0].type, "signal:chat");
  assert.equal(ofType(c, "signal")[2].type, "signal");
  await leave(a, b, c);
});

test("per-type listeners: signal:TYPE, once, off, the map form, and the event's fields", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  const got = [];
  const onFoo = (e) => got.push(["foo", e.type, e.data, e.from.connectionId]);
  b.on("signal:foo", onFoo);
  b.once("signal:bar", (e) => got.push(["bar-once", e.data]));
  b.on({ "signal:baz": (e) => got.push(["baz", e.data]) });
  for (const [type, data] of [["foo", "1"], ["bar", "2"], ["bar", "3"], ["baz", "4"], ["qux", "5"]]) {
    await a.signal({ type, data, to: b.connection });
  }
  await until(() => signals(b).length === 5, "five signals");
  b.off("signal:foo", onFoo);
  await a.signal({ type: "foo", data: "6", to: b.connection });
  await until(() => signals(b).length === 6, "sixth signal");
  const A = a.connection.connectionId;
  assert.deepEqual(got, [["foo", "signal:foo", "1", A], ["bar-once", "2"], ["baz", "4"]]);
  assert.deepEqual(signals(b).map(([t, d]) => t + d), ["foo1", "bar2", "bar3", "baz4", "qux5", "foo6"]);
  await leave(a, b);
});

test("a REST signal arrives with from === null, to the session and to one connection", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  assert.equal(await restSignal(server, sid, { type: "news", data: "hello from the server" }), 204);
  assert.equal(await restSignal(server, sid, { type: "dm", data: "just b" }, b.connection.connectionId), 204);
  assert.equal(await restSignal(server, sid, { data: "untyped" }), 204);
  await until(() => signals(a).length === 2 && signals(b).length === 3, "REST signals");
  assert.deepEqual(signals(a), [["news", "hello from the server", null], ["", "untyped", null]]);
  assert.deepEqual(signals(b), [["news", "hello from the server", null], ["dm", "just b", null], ["", "untyped", null]]);
  assert.strictEqual(ofType(b, "signal")[1].from, null);
  await leave(a, b);
});

test("validation refuses what the server would, with the SDK's codes, and sends nothing", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  const cases = [
    [{ type: "t".repeat(129) }, ErrorCode.SignalTypeTooLong, "SignalTypeTooLong"],
    [{ type: "a b" }, ErrorCode.InvalidSignalType, "InvalidSignalType"],
    [{ type: "é" }, 1461, "InvalidSignalType"],
    [{ data: "x".repeat(8193) }, ErrorCode.SignalDataTooLong, "SignalDataTooLong"],
    [{ data: "é".repeat(4097) }, 1413, "SignalDataTooLong"],
    [{ data: "bad \udc00 surrogate" }, 1011, "NullOrInvalidParameter"],
    [{ data: 42 }, 1011, "NullOrInvalidParameter"],
    [{ type: 7 }, 1011, "NullOrInvalidParameter"],
    [{ to: "" }, 1011, "NullOrInvalidParameter"],
    [{ to: [b.connection, 5] }, 1011, "NullOrInvalidParameter"],
    [{ to: Array(1001).fill(b.connection) }, 1011, "NullOrInvalidParameter"],
  ];
  for (const [opts, code, name] of cases) {
    await assert.rejects(a.signal(opts), (e) => e.code === code && e.name === name, JSON.stringify(opts).slice(0, 60));
    const viaCallback = await within(new Promise((res) => a.signal(opts, res)), "completion");
    assert.equal(viaCallback.code, code);
  }
  // At the limits exactly: accepted and delivered.
  await a.signal({ type: "t".repeat(128), data: "é".repeat(4096), to: b.connection });
  await until(() => signals(b).length === 1, "the maximal signal");
  assert.equal(signals(b)[0][1], "é".repeat(4096));
  await sleep(100);
  assert.equal(signals(b).length, 1, "nothing refused was sent");
  assert.equal(a.state, "connected", "refusals leave the session connected");
  await leave(a, b);
});

test("the Promise form and the completion handler: success, and the server's refusals (1600, 1601)", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  const c = await join(server.url, sid, { role: "publisher_only" });
  const p = a.signal({ type: "t", data: "x" });
  assert.ok(p instanceof Promise);
  assert.equal(await p, undefined);
  const cb = await within(new Promise((res) => assert.equal(a.signal({ data: "y" }, (e) => res(["done", e])), undefined)), "completion");
  assert.deepEqual(cb, ["done", undefined]);
  // A target that has left: refused whole by the server, nobody gets it.
  const bConn = b.connection;
  await leave(b);
  await until(() => ofType(a, "connectionDestroyed").length === 1, "b gone");
  await assert.rejects(a.signal({ data: "to a ghost", to: [bConn, c.connection] }), (e) => e.code === ErrorCode.SignalTargetNotConnected && e.name === "SignalTargetNotConnected");
  // A publisher_only token may not signal.
  await assert.rejects(c.signal({ data: "not allowed" }), (e) => e.code === ErrorCode.PermissionDenied);
  await sleep(100);
  assert.ok(!signals(c).some(([, d]) => d === "to a ghost" || d === "not allowed"));
  assert.equal(a.state, "connected");
  assert.equal(c.state, "connected");
  await leave(a, c);
});

test("handlers may call the API: an echo from inside a signal handler", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const bot = await join(server.url, sid);
  bot.on("signal:ask", (e) => {
    bot.signal({ type: "echo", data: e.data, to: e.from }).catch(() => {});
  });
  for (let i = 0; i < 20; i++) a.signal({ type: "ask", data: `q${i}`, to: bot.connection }).catch(() => {});
  await until(() => signals(a).filter(([t]) => t === "echo").length === 20, "echoes");
  assert.deepEqual(signals(a).map(([, d]) => d), Array.from({ length: 20 }, (_, i) => `q${i}`));
  await leave(a, bot);
});

test("connect refusals: a bad token (1004), a foreign session id (1005), nobody listening (1006), connect twice (1015)", async () => {
  const sid = newSessionId();
  const s = initSession(API_KEY, sid, { serverUrl: server.url, logger: quiet });
  const exceptions = [];
  s.on("exception", (e) => exceptions.push(e.code));
  await assert.rejects(s.connect("T1==bm90IGEgdG9rZW4="), (e) => e.code === ErrorCode.AuthorizationFailure);
  assert.equal(s.state, "disconnected");
  await assert.rejects(s.connect(token(newSessionId())), (e) => e.code === 1004, "a token for another session");
  const foreign = initSession(API_KEY, "1_not-a-session", { serverUrl: server.url, logger: quiet });
  await assert.rejects(foreign.connect(token(sid)), (e) => e.code === ErrorCode.InvalidSession);
  const nowhere = initSession(API_KEY, sid, { serverUrl: "http://127.0.0.1:9", logger: quiet });
  await assert.rejects(nowhere.connect(token(sid)), (e) => e.code === ErrorCode.ConnectionFailed);
  assert.deepEqual(exceptions, [1004, 1004]);
  // Connected after refusals, and a second connect is refused.
  const first = s.connect(token(sid));
  await assert.rejects(s.connect(token(sid)), (e) => e.code === ErrorCode.IllegalState);
  await first;
  assert.equal(s.state, "connected");
  await leave(s);
});

test("a list of server URLs: an unreachable first one is skipped", async () => {
  const sid = newSessionId();
  const s = await join("unused", sid, { options: { serverUrl: ["http://127.0.0.1:9", server.url] } }).catch((e) => e);
  assert.equal(s.state, "connected", String(s));
  await leave(s);
});

test("a forced disconnect (REST DELETE) ends the session cleanly, and the others see why", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  const B = b.connection.connectionId;
  const r = await fetch(`${server.url}/v2/project/${API_KEY}/session/${sid}/connection/${B}`, {
    method: "DELETE",
    headers: { "X-OPENTOK-AUTH": restToken() },
  });
  assert.equal(r.status, 204);
  await until(() => ofType(b, "sessionDisconnected").length === 1 && ofType(a, "connectionDestroyed").length === 1, "forced out");
  assert.equal(ofType(b, "sessionDisconnected")[0].reason, "forceDisconnected");
  assert.equal(ofType(a, "connectionDestroyed")[0].reason, "forceDisconnected");
  assert.equal(ofType(b, "exception").length, 0);
  assert.equal(ofType(b, "sessionReconnecting").length, 0, "a decision of the server is not a drop");
  await leave(a);
});

test("suppressed connection events: none arrive, signals from unknown senders still carry their id", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const quietOne = await join(server.url, sid, { options: { connectionEventsSuppressed: true } });
  const c = await join(server.url, sid);
  await c.signal({ type: "hi", data: "x", to: quietOne.connection });
  await until(() => signals(quietOne).length === 1, "signal");
  assert.equal(ofType(quietOne, "connectionCreated").length, 0);
  assert.equal(signals(quietOne)[0][2], c.connection.connectionId);
  await leave(a, quietOne, c);
});

test("a burst of 8 KB signals past the outbox's window: every Promise resolves once, all arrive in order", async () => {
  const sid = newSessionId();
  const a = await join(server.url, sid);
  const b = await join(server.url, sid);
  // 700 x 8 KB is more than MAX_UNANSWERED_SIGNAL_BYTES: the rest waits in
  // the outbox; answers come as acknowledgement runs.
  const N = 700;
  const pad = "x".repeat(8000);
  const sent = [];
  for (let i = 0; i < N; i++) sent.push(a.signal({ type: "burst", data: `${i}:${pad}`, to: b.connection }));
  const results = await within(Promise.allSettled(sent), "every signal answered", 60_000);
  assert.equal(results.filter((r) => r.status === "fulfilled").length, N);
  await until(() => signals(b).length === N, "all delivered", 60_000);
  assert.deepEqual(signals(b).map(([, d]) => Number(d.split(":")[0])), [...Array(N).keys()]);
  await leave(a, b);
});
