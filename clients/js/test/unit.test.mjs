// Unit tests that need no server: validation with the protocol's codes,
// server URLs, the reconnection policy, the event emitter.

import test from "node:test";
import assert from "node:assert/strict";

import { checkSignal, utf8Length, wsUrl, initSession, OTError, ErrorCode, Connection, OT } from "../dist/index.js";
import { policy, attemptTimeout, Backoff } from "../dist/reconnect.js";
import { Emitter } from "../dist/events.js";
import { decodeServer } from "../dist/messages.js";

const code = (e) => e?.code;

test("validation gives protocol/src/validate.rs's answers and codes", () => {
  assert.equal(checkSignal("", "", undefined), undefined);
  assert.equal(checkSignal("chat-msg_1~X", "hi", undefined), undefined);
  assert.equal(checkSignal("a".repeat(128), "x".repeat(8192), ["c"]), undefined);
  assert.equal(code(checkSignal("a".repeat(129), "", undefined)), 1414);
  for (const bad of ["a b", "é", "x/y", "a.b", "a\0", "😀"]) assert.equal(code(checkSignal(bad, "", undefined)), 1461, bad);
  assert.equal(code(checkSignal("é".repeat(65), "", undefined)), 1414, "bytes, not characters");
  assert.equal(checkSignal("", "é".repeat(4096), undefined), undefined, "8192 bytes of 2-byte characters");
  assert.equal(code(checkSignal("", "é".repeat(4096) + "x", undefined)), 1413);
  assert.equal(code(checkSignal("", "x".repeat(8193), undefined)), 1413);
  assert.equal(code(checkSignal("", "\ud800", undefined)), 1011, "a lone surrogate is not UTF-8");
  assert.equal(code(checkSignal("", "", [])), 1011);
  assert.equal(code(checkSignal("", "", [""])), 1011);
  assert.equal(code(checkSignal("", "", ["x".repeat(513)])), 1011);
  assert.equal(code(checkSignal("", "", Array(1001).fill("c"))), 1011);
  assert.equal(checkSignal("", "", Array(1000).fill("c")), undefined);
  // type first, then data, then targets
  assert.equal(code(checkSignal("a b", "x".repeat(9000), [])), 1461);
  assert.equal(code(checkSignal("ok", "x".repeat(9000), [])), 1413);
  assert.equal(utf8Length("aé€😀"), 1 + 2 + 3 + 4);
});

test("server URLs become the WebSocket endpoint as in the C library", () => {
  assert.equal(wsUrl("http://127.0.0.1:4443"), "ws://127.0.0.1:4443/v1/ws");
  assert.equal(wsUrl("ws://[::1]:4443/"), "ws://[::1]:4443/v1/ws");
  assert.equal(wsUrl("http://h:1/prefix/"), "ws://h:1/prefix/v1/ws");
  assert.equal(wsUrl("ws://h:1/v1/ws"), "ws://h:1/v1/ws");
  assert.equal(wsUrl("https://h:1"), "wss://h:1/v1/ws");
  assert.equal(wsUrl("wss://h/x?q=1#f"), "wss://h/x/v1/ws");
  assert.equal(wsUrl("https://u:p@h:1"), "wss://h:1/v1/ws");
  for (const bad of ["", "nonsense", "ftp://h:1"]) assert.throws(() => wsUrl(bad), (e) => e.code === 1011, bad);
});

test("initSession checks its arguments (1011)", () => {
  assert.throws(() => initSession("100000", ""), (e) => e instanceof OTError && e.code === 1011);
  assert.throws(() => initSession("", "s"), (e) => e.code === 1011);
  assert.throws(() => initSession("1", "s", { serverUrl: "gopher://x" }), (e) => e.code === 1011);
  assert.throws(() => initSession("1", "s", { serverUrl: Array(17).fill("http://h:1") }), (e) => e.code === 1011);
  assert.throws(() => initSession("1", "s", { reconnectionWindowMs: -1 }), (e) => e.code === 1011);
  const s = OT.initSession(100000, "s", { serverUrl: "http://127.0.0.1:1" });
  assert.equal(s.apiKey, "100000");
  assert.equal(s.state, "new");
  assert.equal(s.connection, undefined);
});

test("a session that is not connected refuses signals with 1010, through the callback and the Promise", async () => {
  const s = initSession("100000", "s", { serverUrl: "http://127.0.0.1:1" });
  await assert.rejects(s.signal({ type: "t", data: "d" }), (e) => e.code === ErrorCode.NotConnected && e.name === "NotConnected");
  // Invalid before not-connected, as the C library checks.
  await assert.rejects(s.signal({ type: "a b" }), (e) => e.code === 1461);
  const got = await new Promise((res) => assert.equal(s.signal({ data: "x" }, res), undefined));
  assert.equal(got.code, 1010);
  await assert.rejects(s.signal({ data: 5 }), (e) => e.code === 1011);
  await assert.rejects(s.signal({ to: {} }), (e) => e.code === 1011);
  await assert.rejects(s.signal(null), (e) => e.code === 1011);
  await assert.rejects(s.signal({ retryAfterReconnect: "no" }), (e) => e.code === 1011);
  await assert.rejects(s.connect(""), (e) => e.code === 1011);
  await assert.rejects(s.connect("x".repeat(24 * 1024 + 1)), (e) => e.code === 1011);
});

test("the policy follows the server's numbers as src/reconnect.rs does", () => {
  let p = policy(undefined, 5000, 30000);
  assert.deepEqual(p, { windowMs: 40000, idleMs: 15000, pingEveryMs: 5000 });
  p = policy(undefined, 100, 400);
  assert.equal(p.windowMs, 600);
  assert.equal(p.idleMs, 300);
  assert.equal(policy(undefined, 1, 0).windowMs, 100);
  assert.equal(policy(undefined, 1, 0).idleMs, 100);
  assert.equal(policy(3000, 5000, 30000).windowMs, 3000);
  assert.equal(attemptTimeout(policy(undefined, 5000, 30000)), 10000);
  assert.equal(attemptTimeout(policy(undefined, 100, 400)), 1000);
  const b = new Backoff(policy(undefined, 5000, 30000));
  const d = Array.from({ length: 12 }, () => b.nextDelay());
  assert.ok(d[0] >= 25 && d[0] <= 50, `${d[0]}`);
  assert.ok(d.every((x) => x <= 2000));
  assert.ok(d[11] >= 1000);
  const short = new Backoff(policy(400, 1000, 0));
  assert.ok(Array.from({ length: 10 }, () => short.nextDelay()).every((x) => x <= 100));
});

test("the emitter: on, once, off, maps of handlers, context, a throwing handler", () => {
  class E extends Emitter {
    fire(t, e) {
      this.dispatch(t, e);
    }
  }
  const e = new E();
  const seen = [];
  const h = (ev) => seen.push(["h", ev.n]);
  e.on("a", h);
  e.once("a", (ev) => seen.push(["once", ev.n]));
  e.on({ b: (ev) => seen.push(["b", ev.n]) });
  const ctx = { name: "ctx" };
  e.on("c", function () {
    seen.push(["c", this.name]);
  }, ctx);
  e.on("a", () => {
    throw new Error("boom");
  });
  e.fire("a", { n: 1 });
  e.fire("a", { n: 2 });
  e.fire("b", { n: 3 });
  e.fire("c", {});
  e.off("a", h);
  e.fire("a", { n: 4 });
  e.off();
  e.fire("b", { n: 5 });
  assert.deepEqual(seen, [["h", 1], ["once", 1], ["h", 2], ["b", 3], ["c", "ctx"]]);
});

test("server frames are decoded strictly: unknown kinds and non-objects are refused", () => {
  assert.deepEqual(decodeServer('{"kind":"signal","seq":3,"data":"x"}'), { kind: "signal", seq: 3, from: null, type: "", data: "x" });
  assert.deepEqual(decodeServer('{"kind":"signal_ack","seq":1,"future":true}'), { kind: "signal_ack", seq: 1 });
  assert.deepEqual(decodeServer('{"kind":"signal_ack","seq":9,"first":3}'), { kind: "signal_ack", seq: 9, first: 3 });
  for (const bad of ['{"kind":"launch_rockets"}', "[1]", "42", "{", '{"seq":1}', '{"kind":"signal","seq":-1}',
    '{"kind":"connection_destroyed","seq":1,"connection_id":"c","reason":"nope"}']) {
    assert.throws(() => decodeServer(bad), bad);
  }
  assert.equal(new Connection("c", 1, "d").id, "c");
});

test("the outbox keeps a window on the wire, refills it in order as answers come, and from the oldest on a resume", async () => {
  const { Outbox } = await import("../dist/outbox.js");
  const { MAX_UNANSWERED_SIGNAL_BYTES } = await import("../dist/limits.js");
  assert.equal(new Outbox().windowBytes, MAX_UNANSWERED_SIGNAL_BYTES);
  // 10 bytes of window; each signal weighs 4 ("ab" + 2 bytes of data).
  const o = new Outbox(100, 10);
  for (let i = 0; i < 5; i++) assert.ok(!(o.push("ab", "xy", 2, undefined, undefined) instanceof OTError));
  const sent = () => {
    const seqs = [];
    o.sendReady((f) => seqs.push(JSON.parse(f).seq));
    return seqs;
  };
  assert.deepEqual(sent(), [1, 2], "two fit, the third waits");
  assert.equal(o.size, 5, "the waiting ones are kept, numbered");
  assert.ok(o.settle(2), "answers may come out of order");
  assert.deepEqual(sent(), [3]);
  assert.ok(o.settle(1));
  assert.deepEqual(sent(), [4]);
  o.relink();
  assert.deepEqual(sent(), [3, 4], "a resume refills the window from the oldest");
  o.settle(3);
  o.settle(4);
  assert.deepEqual(sent(), [5]);
  o.settle(5);
  assert.equal(o.size, 0);
  // An ack run settles the pending seqs inside it, in order.
  const r = new Outbox();
  for (let i = 0; i < 5; i++) r.push("t", "", 0, undefined, undefined);
  r.sendReady(() => {});
  r.settle(3); // refused before the run
  assert.deepEqual(r.settleRun(2, 4).map((p) => p.seq), [2, 4]);
  assert.deepEqual(r.settleRun(1, Number.MAX_SAFE_INTEGER).map((p) => p.seq), [1, 5]);
  assert.deepEqual(r.settleRun(9, 2), []);
  assert.equal(r.size, 0);
  // One signal always fits an empty wire.
  const big = new Outbox(10, 1);
  big.push("big", "x".repeat(100), 100, undefined, undefined);
  big.push("next", "", 0, undefined, undefined);
  const first = [];
  big.sendReady((f) => first.push(JSON.parse(f).seq));
  assert.deepEqual(first, [1]);
});
