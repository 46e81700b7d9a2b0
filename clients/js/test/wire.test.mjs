// The frames themselves, against a scripted server (the `ws` package's
// server on loopback): what connect and resume carry, that a resume sends
// every unanswered signal again under its number, that replayed events
// already handled are dropped, and that events are acknowledged.

import test from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer } from "ws";

import { initSession } from "../dist/index.js";
import { until, within } from "./harness.mjs";
import { quiet } from "./clients.mjs";

/** A scripted server: every frame each link received, and its sockets. */
async function scripted(onFrame) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (p) => (p.has("otc-signal.v1") ? "otc-signal.v1" : false) });
  const links = [];
  wss.on("connection", (ws, req) => {
    const link = { ws, frames: [], path: req.url, protocol: ws.protocol };
    links.push(link);
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      link.frames.push(m);
      onFrame(link, m, links.indexOf(link));
    });
  });
  await new Promise((r) => wss.once("listening", r));
  return { url: `http://127.0.0.1:${wss.address().port}`, links, close: () => new Promise((r) => wss.close(r)) };
}

const send = (link, m) => link.ws.send(JSON.stringify(m));
const sig = (seq, data) => ({ kind: "signal", seq, from: "peer", type: "n", data });

test("connect, cut, resume: last_seq, resent signals under their numbers, replayed duplicates dropped, acks", async () => {
  const srv = await scripted((link, m, n) => {
    if (m.kind === "connect") {
      send(link, {
        kind: "connected", version: 1, session_id: "S", resume_secret: "secret-1", last_seq: 10,
        connection: { id: "me", created_at_ms: 1, data: "d" }, connections: [{ id: "peer", created_at_ms: 2, data: "p" }],
        ping_interval_ms: 1000, reconnect_grace_ms: 5000,
      });
      for (const seq of [11, 12, 13]) send(link, sig(seq, String(seq)));
    }
    if (m.kind === "signal" && n === 0) {
      if (m.seq === 1) send(link, { kind: "signal_ack", seq: 1 });
      if (m.seq === 2) link.ws.terminate(); // seq 2 is never answered on this link
    }
    if (m.kind === "resume") {
      send(link, { kind: "resumed", last_client_seq: 2 });
      for (const seq of [12, 13, 14]) send(link, sig(seq, String(seq))); // 12 and 13 again: already handled
    }
    if (m.kind === "signal" && n === 1) send(link, { kind: "signal_ack", seq: m.seq });
  });
  const s = initSession("100000", "S", { serverUrl: srv.url, logger: quiet });
  const got = [];
  s.on("signal", (e) => got.push(Number(e.data)));
  let reconnected = 0;
  s.on("sessionReconnected", () => reconnected++);
  await within(s.connect("tok"), "connect");
  const connect = srv.links[0].frames[0];
  assert.deepEqual(connect, { kind: "connect", version: 1, api_key: "100000", session_id: "S", token: "tok", suppress_connection_events: false, ack_runs: true });
  assert.equal(srv.links[0].path, "/v1/ws");
  assert.equal(srv.links[0].protocol, "otc-signal.v1");
  assert.equal(s.connections.get("peer").data, "p");
  await until(() => got.length === 3, "three events");
  const one = s.signal({ type: "t", data: "one" });
  const two = s.signal({ type: "t", data: "two", to: [s.connections.get("peer")] });
  await within(one, "seq 1 acked");
  await until(() => s.state === "reconnecting", "reconnecting");
  const three = s.signal({ type: "t", data: "three" }); // queued
  await within(Promise.all([two, three]), "answered after the resume");
  assert.equal(reconnected, 1);
  const resume = srv.links[1].frames[0];
  assert.deepEqual(resume, { kind: "resume", version: 1, api_key: "100000", session_id: "S", connection_id: "me", resume_secret: "secret-1", last_seq: 13, ack_runs: true });
  const resent = srv.links[1].frames.filter((f) => f.kind === "signal");
  assert.deepEqual(resent, [
    { kind: "signal", seq: 2, type: "t", data: "two", to: ["peer"] },
    { kind: "signal", seq: 3, type: "t", data: "three" },
  ]);
  await until(() => got.length === 4, "the new event");
  assert.deepEqual(got, [11, 12, 13, 14], "each event once, in order");
  // Acknowledged within the ack interval (250 ms).
  await until(() => srv.links[1].frames.some((f) => f.kind === "ack" && f.seq === 14), "ack 14", 3000);
  s.disconnect();
  await until(() => srv.links[1].frames.some((f) => f.kind === "disconnect"), "disconnect frame");
  srv.links[1].ws.close();
  await until(() => s.state === "disconnected", "disconnected");
  await srv.close();
});

test("the client answers pings, pings a quiet server, and acks every 64 events at once", async () => {
  const srv = await scripted((link, m) => {
    if (m.kind === "connect") {
      send(link, {
        kind: "connected", version: 1, session_id: "S", resume_secret: "x", last_seq: 0,
        connection: { id: "me", created_at_ms: 1, data: "" }, connections: [], ping_interval_ms: 100, reconnect_grace_ms: 0,
      });
      send(link, { kind: "ping", id: 7 });
      for (let seq = 1; seq <= 64; seq++) send(link, sig(seq, String(seq)));
    }
  });
  const s = initSession("100000", "S", { serverUrl: srv.url, logger: quiet });
  // The server never pings: with a ping interval of 100 ms the client pings
  // it when quiet, and after 3 x 100 ms of silence the link is dead; with a
  // grace of 0 the window is 100 ms, the resume attempt goes unanswered and
  // the session ends loudly.
  const ended = new Promise((r) => s.once("sessionDisconnected", r));
  const exc = new Promise((r) => s.once("exception", r));
  await within(s.connect("tok"), "connect");
  const e = await within(exc, "exception");
  assert.equal(e.code, 1022);
  assert.equal((await within(ended, "sessionDisconnected")).reason, "networkDisconnected");
  const frames = srv.links[0].frames;
  assert.ok(frames.some((f) => f.kind === "pong" && f.id === 7), "pong 7");
  assert.ok(frames.some((f) => f.kind === "ack" && f.seq === 64), "ack 64 at once");
  assert.ok(frames.some((f) => f.kind === "ping"), "the client pinged the quiet server");
  assert.equal(srv.links[1]?.frames[0]?.kind, "resume");
  await srv.close();
});

test("a malformed or unknown frame from the server ends the session with 1604", async () => {
  const srv = await scripted((link, m) => {
    if (m.kind === "connect") {
      send(link, {
        kind: "connected", version: 1, session_id: "S", resume_secret: "x", last_seq: 0,
        connection: { id: "me", created_at_ms: 1, data: "" }, connections: [], ping_interval_ms: 5000, reconnect_grace_ms: 30000,
      });
      link.ws.send(JSON.stringify({ kind: "launch_rockets" }));
    }
  });
  const s = initSession("100000", "S", { serverUrl: srv.url, logger: quiet });
  const exc = new Promise((r) => s.once("exception", r));
  await within(s.connect("tok"), "connect");
  assert.equal((await within(exc, "exception")).code, 1604);
  await until(() => s.state === "disconnected", "disconnected");
  await srv.close();
});
