// Reconnection with resume against the real otc-server, through a TCP proxy
// the test cuts, stalls or blocks: the same connection comes back, nothing
// is lost, nothing doubled, order is kept, signals queued meanwhile go out
// after the resume; past the bounds the failure is loud.

import test from "node:test";
import assert from "node:assert/strict";

import { ErrorCode } from "../dist/index.js";
import { newSessionId, restSignal, startProxy, startServer, until, within, sleep } from "./harness.mjs";
import { join, leave, ofType, signals } from "./clients.mjs";

const GRACE_MS = 3000;
let server;
const proxies = [];
test.before(async () => {
  server = await startServer(["--ping-interval-ms", "500", "--idle-timeout-ms", "3000", "--reconnect-grace-ms", String(GRACE_MS)]);
});
test.after(async () => {
  for (const p of proxies) await p.close();
  await server?.stop();
});

async function proxy() {
  const p = await startProxy(server.port);
  proxies.push(p);
  return p;
}

/** The numbered data `s` received of `type`, checked: each of 1..n exactly once, in order. */
function assertExactlyOnceInOrder(s, type, n, who) {
  const got = signals(s).filter(([t]) => t === type).map(([, d]) => Number(d));
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => i + 1), `${who}: ${got.length} of ${n} received`);
}

test("the sender's link is cut mid-stream: same connection, every signal once and in order, queued ones after the resume", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(px.url, sid);
  const b = await join(server.url, sid);
  const A = a.connection.connectionId;
  await until(() => ofType(b, "connectionCreated").length === 1, "b sees a");
  const sent = [];
  const send = (i) => sent.push(a.signal({ type: "n", data: String(i), to: b.connection }));
  for (let i = 1; i <= 100; i++) send(i);
  px.cut(); // frames in flight are lost with the link
  for (let i = 101; i <= 150; i++) send(i); // the link looks up yet: they stay in the outbox
  await until(() => a.state === "reconnecting", "a reconnecting");
  for (let i = 151; i <= 250; i++) send(i); // queued while reconnecting
  await within(Promise.all(sent), "every signal answered");
  assert.equal(a.state, "connected");
  assert.equal(a.connection.connectionId, A, "the same connection");
  await until(() => signals(b).length >= 250, "b receives them all");
  await sleep(200);
  assertExactlyOnceInOrder(b, "n", 250, "b");
  assert.ok(ofType(a, "sessionReconnecting").length >= 1);
  assert.equal(ofType(a, "sessionReconnecting").length, ofType(a, "sessionReconnected").length);
  assert.equal(ofType(a, "exception").length, 0);
  assert.equal(ofType(a, "sessionDisconnected").length, 0);
  // The others saw nothing: no drop, no new arrival.
  assert.equal(ofType(b, "connectionDestroyed").length, 0);
  assert.equal(ofType(b, "connectionCreated").length, 1);
  // The order of what a saw: reconnecting before reconnected.
  const order = a.seen.map(([t]) => t).filter((t) => t.startsWith("sessionRe"));
  assert.equal(order[0], "sessionReconnecting");
  await leave(a, b);
});

test("the receiver's link is cut while signals keep coming: replayed after the resume, once each, in order", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(server.url, sid);
  const b = await join(px.url, sid);
  await until(() => ofType(a, "connectionCreated").length === 1, "a sees b");
  const sent = [];
  for (let i = 1; i <= 300; i++) {
    sent.push(a.signal({ type: "n", data: String(i), to: b.connection }));
    if (i === 120) px.cut();
    if (i === 200) await until(() => b.state === "reconnecting", "b reconnecting"); // the rest goes to a connection whose link is down
  }
  // The application server speaks meanwhile too: to the whole session.
  assert.equal(await restSignal(server, sid, { type: "rest", data: "1" }), 204);
  await within(Promise.all(sent), "a's signals answered");
  await until(() => signals(b).filter(([t]) => t === "n").length >= 300 && signals(b).some(([t]) => t === "rest"), "b receives all");
  await sleep(200);
  assertExactlyOnceInOrder(b, "n", 300, "b");
  assertExactlyOnceInOrder(b, "rest", 1, "b (REST)");
  assert.ok(ofType(b, "sessionReconnected").length >= 1);
  assert.equal(ofType(a, "connectionDestroyed").length, 0);
  assert.equal(ofType(b, "exception").length, 0);
  await leave(a, b);
});

test("both links cut at once, signals both ways: nothing lost or doubled on either side", async () => {
  const sid = newSessionId();
  const pa = await proxy();
  const pb = await proxy();
  const a = await join(pa.url, sid);
  const b = await join(pb.url, sid);
  await until(() => ofType(a, "connectionCreated").length === 1, "a sees b");
  const sent = [];
  for (let i = 1; i <= 200; i++) {
    sent.push(a.signal({ type: "ab", data: String(i), to: b.connection }));
    sent.push(b.signal({ type: "ba", data: String(i) })); // a broadcast: b gets its own too
    if (i === 80) {
      pa.cut();
      pb.cut();
    }
    if (i % 50 === 0) await sleep(20);
  }
  await within(Promise.all(sent), "all answered");
  await until(() => signals(b).length >= 400 && signals(a).length >= 200, "all received");
  await sleep(200);
  assertExactlyOnceInOrder(b, "ab", 200, "b");
  assertExactlyOnceInOrder(a, "ba", 200, "a");
  assertExactlyOnceInOrder(b, "ba", 200, "b (own broadcasts)");
  await leave(a, b);
});

test("a silent link (bytes stop, sockets stay) is noticed after three ping intervals and resumed", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(server.url, sid);
  const b = await join(px.url, sid);
  await until(() => ofType(a, "connectionCreated").length === 1, "a sees b");
  px.stall();
  const sent = [];
  for (let i = 1; i <= 20; i++) sent.push(a.signal({ type: "n", data: String(i), to: b.connection }));
  await within(Promise.all(sent), "a's signals answered");
  await until(() => ofType(b, "sessionReconnected").length === 1, "b noticed and resumed", 10_000);
  await until(() => signals(b).length >= 20, "b receives");
  assertExactlyOnceInOrder(b, "n", 20, "b");
  const before = b.seen.findIndex(([t]) => t === "sessionReconnecting");
  const firstSignal = b.seen.findIndex(([t]) => t === "signal");
  assert.ok(before >= 0 && before < firstSignal, "the signals came after the resume");
  await leave(a, b);
});

test("retryAfterReconnect: false fails at once with 1010 while reconnecting; the default queues", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(px.url, sid);
  const b = await join(server.url, sid);
  px.block();
  px.cut();
  await until(() => a.state === "reconnecting", "reconnecting");
  await assert.rejects(a.signal({ data: "now or never", retryAfterReconnect: false }), (e) => e.code === ErrorCode.NotConnected);
  const queued = a.signal({ type: "q", data: "1", to: b.connection });
  const queuedCb = new Promise((res) => a.signal({ type: "q", data: "2", to: b.connection, retryAfterReconnect: true }, res));
  await sleep(300);
  px.unblock();
  await within(queued, "queued signal");
  assert.equal(await within(queuedCb, "queued signal (callback)"), undefined);
  await until(() => signals(b).length === 2, "b receives the queued signals");
  assert.deepEqual(signals(b).map(([, d]) => d), ["1", "2"]);
  await leave(a, b);
});

test("past the reconnection window: exception 1022, queued signals failed with 1022, sessionDisconnected", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(px.url, sid, { options: { reconnectionWindowMs: 700 } });
  const b = await join(server.url, sid);
  const A = a.connection.connectionId;
  px.block();
  px.cut();
  await until(() => a.state === "reconnecting", "reconnecting");
  const queued = a.signal({ data: "never sent", to: b.connection });
  const failed = await within(queued.then(() => null, (e) => e), "the queued signal fails");
  assert.equal(failed?.code, ErrorCode.ConnectionDropped);
  await until(() => ofType(a, "sessionDisconnected").length === 1, "sessionDisconnected");
  assert.equal(ofType(a, "sessionDisconnected")[0].reason, "networkDisconnected");
  const codes = ofType(a, "exception").map((e) => e.code);
  assert.ok(codes.length >= 1 && codes.every((c) => c === 1022), `${codes}`);
  assert.equal(a.state, "disconnected");
  // The server ends the connection after its grace; the others see it dropped.
  await until(() => ofType(b, "connectionDestroyed").length === 1, "b sees a dropped", GRACE_MS + 5000);
  const gone = ofType(b, "connectionDestroyed")[0];
  assert.equal(gone.connection.connectionId, A);
  assert.equal(gone.reason, "networkDisconnected");
  assert.equal(signals(b).length, 0);
  await leave(b);
});

test("back after the server's grace: the resume is refused and reported (1022), not guessed", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(px.url, sid, { options: { reconnectionWindowMs: 15_000 } });
  px.block();
  px.cut();
  await until(() => a.state === "reconnecting", "reconnecting");
  await sleep(GRACE_MS + 700);
  assert.equal(a.state, "reconnecting");
  px.unblock();
  await until(() => ofType(a, "sessionDisconnected").length === 1, "sessionDisconnected", 10_000);
  const [e] = ofType(a, "exception");
  assert.equal(e.code, ErrorCode.ConnectionDropped);
  assert.match(e.message, /refused to resume/);
  assert.equal(ofType(a, "sessionReconnected").length, 0);
  // Connecting again gives a new connection.
  const again = await join(server.url, sid);
  assert.equal(again.state, "connected");
  await leave(again);
});

test("disconnect while reconnecting stops at once: queued signals fail with 1010", async () => {
  const sid = newSessionId();
  const px = await proxy();
  const a = await join(px.url, sid);
  px.block();
  px.cut();
  await until(() => a.state === "reconnecting", "reconnecting");
  const queued = a.signal({ data: "queued" });
  a.disconnect();
  assert.equal(a.state, "disconnected");
  await assert.rejects(queued, (e) => e.code === ErrorCode.NotConnected);
  await until(() => ofType(a, "sessionDisconnected").length === 1, "sessionDisconnected");
  assert.equal(ofType(a, "sessionDisconnected")[0].reason, "clientDisconnected");
  px.unblock();
  await sleep(200);
  assert.equal(a.state, "disconnected", "no attempt carries on");
});
