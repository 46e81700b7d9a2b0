// The JavaScript client in a real browser (headless chromium), loaded from
// the files otc-server's console serves and under its Content-Security-
// Policy, in one session with C programs (c-examples/chat on libopentok):
// signals both ways, broadcast and targeted, REST signals, per-type
// listeners, connection events, and a cut link resumed with nothing lost.
//
// The chat example prints what its callbacks got:
//     * connected as <id> / * connection created: <id> [data=...] / * connection dropped: <id>
//     [<id>] <type>: <data>   [<id> (own)] ...   [<id> -> <own id>] private: ...   [server] <type>: <data>
// and sends a line as a "chat" broadcast, `/to ID TEXT` as a "private" signal to ID.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BrowserPeer,
  Room,
  WAIT_MS,
  API_KEY,
  literal,
  newSessionId,
  restSignal,
  serverAndBrowserForFile,
  startProxy,
  token,
} from "./harness.mjs";

const ctx = serverAndBrowserForFile();

/** A test with a room of C clients and browser pages, all closed at its end. */
function withPeers(name, body) {
  test(name, { timeout: 8 * WAIT_MS }, async () => {
    const room = new Room(ctx.server.url, API_KEY);
    const pages = [];
    const join = async (opts) => {
      const p = await BrowserPeer.join(ctx.chromium.browser, opts.origin ?? ctx.server.url, opts);
      pages.push(p);
      return p;
    };
    try {
      await body({ room, join });
    } finally {
      await Promise.all(pages.map((p) => p.close()));
      await room.close();
    }
  });
}

const created = (id, data) => new RegExp(`^\\* connection created: ${literal(id)}${data ? ` data=${literal(data)}` : ""}$`);
const isSignal = (type, data, from) => (e) => e.kind === "signal" && e.listener === "signal" && e.type === type && e.data === data && e.from === from;

withPeers("broadcast and targeted signals go both ways between a page and C clients", async ({ room, join }) => {
  const sid = newSessionId();
  const page = await join({ sessionId: sid, token: token(sid, "name=page") });
  const carol = await room.join(sid, token(sid, "name=carol"), "carol");
  const dave = await room.join(sid, token(sid, "name=dave"), "dave");
  await carol.expect(created(page.id, "name=page"));
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === carol.id && e.data === "name=carol", "carol created", { fromStart: true });
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === dave.id, "dave created", { fromStart: true });

  // C -> page: a broadcast, then a private signal to the page only.
  carol.send("hello from carol");
  await page.waitFor(isSignal("chat", "hello from carol", carol.id), "carol's broadcast", { fromStart: true });
  carol.send(`/to ${page.id} just for the page`);
  await page.waitFor(isSignal("private", "just for the page", carol.id), "carol's private signal", { fromStart: true });
  await carol.expect(new RegExp(`^\\* sent privately to ${literal(page.id)}: just for the page$`));

  // page -> C: a broadcast (back to the page too), then one to carol only.
  await page.signal({ type: "chat", data: "hi from the browser" });
  await carol.expect(new RegExp(`^\\[${literal(page.id)}\\] chat: hi from the browser$`));
  await dave.expect(new RegExp(`^\\[${literal(page.id)}\\] chat: hi from the browser$`));
  await page.waitFor(isSignal("chat", "hi from the browser", page.id), "its own broadcast", { fromStart: true });
  await page.signal({ type: "private", data: "psst carol", to: carol.id });
  await carol.expect(new RegExp(`^\\[${literal(page.id)} -> ${literal(carol.id)}\\] private: psst carol$`));
  // A Connection object as the target works as well as its id.
  await page.page.evaluate((id) => window.peer.s.signal({ type: "private", data: "psst dave", to: window.peer.s.connections.get(id) }), dave.id);
  await dave.expect(new RegExp(`^\\[${literal(page.id)} -> ${literal(dave.id)}\\] private: psst dave$`));

  // Targeted means targeted: a REST signal after everything, and nobody
  // got what was not theirs before it.
  assert.equal(await restSignal(ctx.server, sid, { type: "end", data: "of test" }), 204);
  const { lines: daveLines } = await dave.until(/^\[server\] end: of test$/);
  assert.ok(!daveLines.some((l) => l.includes("just for the page") || l.includes("psst carol")), daveLines.join("\n"));
  const { lines: carolLines } = await carol.until(/^\[server\] end: of test$/);
  assert.ok(!carolLines.some((l) => l.includes("psst dave")), carolLines.join("\n"));
  await page.waitFor(isSignal("end", "of test", null), "the REST signal", { fromStart: true });
  const events = await page.events();
  assert.ok(!events.some((e) => e.kind === "signal" && (e.data === "psst carol" || e.data === "psst dave")), "the page got a private signal of someone else");
  assert.equal(events.filter((e) => e.kind === "signal" && e.data === "hi from the browser").length, 1, "own broadcast once");
});

withPeers("a REST signal arrives with from === null, to the session or to the page alone", async ({ room, join }) => {
  const sid = newSessionId();
  const page = await join({ sessionId: sid, token: token(sid) });
  const carol = await room.join(sid, token(sid), "carol");
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === carol.id, "carol created");

  assert.equal(await restSignal(ctx.server, sid, { type: "announcement", data: "to everyone" }), 204);
  const e = await page.waitFor((x) => x.kind === "signal" && x.data === "to everyone", "the REST broadcast");
  assert.equal(e.from, null);
  assert.equal(e.type, "announcement");
  assert.deepEqual(await carol.nextServerSignal(), ["announcement", "to everyone"]);

  assert.equal(await restSignal(ctx.server, sid, { type: "note", data: "page only" }, page.id), 204);
  await page.waitFor(isSignal("note", "page only", null), "the REST signal to the page");
  assert.equal(await restSignal(ctx.server, sid, { type: "note", data: "carol only" }, carol.id), 204);
  assert.deepEqual(await carol.nextServerSignal(), ["note", "carol only"], "carol got only her own");
  // The page's part is over: nothing for carol reached it.
  assert.equal(await restSignal(ctx.server, sid, { type: "note", data: "last" }, page.id), 204);
  await page.waitFor(isSignal("note", "last", null), "the last REST signal");
  assert.ok(!(await page.events()).some((x) => x.data === "carol only"));
});

withPeers("a signal:TYPE listener hears its type only", async ({ room, join }) => {
  const sid = newSessionId();
  const page = await join({ sessionId: sid, token: token(sid), types: ["chat", "news"] });
  const carol = await room.join(sid, token(sid), "carol");
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === carol.id, "carol created");

  carol.send("a chat line");
  carol.send(`/to ${page.id} a private line`);
  assert.equal(await restSignal(ctx.server, sid, { type: "news", data: "a news item" }), 204);
  assert.equal(await restSignal(ctx.server, sid, { type: "end", data: "" }), 204);
  await page.waitFor((e) => e.kind === "signal" && e.listener === "signal" && e.type === "end", "the last signal");
  // Carol's lines travel through her own client and may come after the REST
  // ones (no order holds across senders): wait for them too.
  await page.waitFor((e) => e.kind === "signal" && e.listener === "signal" && e.type === "chat", "carol's chat line", { fromStart: true });
  await page.waitFor((e) => e.kind === "signal" && e.listener === "signal" && e.type === "private", "carol's private line", { fromStart: true });
  const events = (await page.events()).filter((e) => e.kind === "signal");
  const by = (listener) => events.filter((e) => e.listener === listener).map((e) => `${e.type}:${e.data}`);
  assert.deepEqual(by("signal:chat"), ["chat:a chat line"]);
  assert.deepEqual(by("signal:news"), ["news:a news item"]);
  // The generic listener hears all four, in the order each sender sent them.
  const all = by("signal");
  assert.deepEqual(all.filter((s) => s.startsWith("chat:") || s.startsWith("private:")), ["chat:a chat line", "private:a private line"]);
  assert.deepEqual(all.filter((s) => s.startsWith("news:") || s.startsWith("end:")), ["news:a news item", "end:"]);
});

withPeers("connection events: created and destroyed as C clients join and leave", async ({ room, join }) => {
  const sid = newSessionId();
  const carol = await room.join(sid, token(sid, "name=carol"), "carol");
  // Already there when the page joins: one connectionCreated.
  const page = await join({ sessionId: sid, token: token(sid, "name=page") });
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === carol.id && e.data === "name=carol", "carol, already there", { fromStart: true });
  await carol.expect(created(page.id, "name=page"));
  // A later arrival and its departure.
  const dave = await room.join(sid, token(sid, "name=dave"), "dave");
  await page.waitFor((e) => e.kind === "connectionCreated" && e.id === dave.id && e.data === "name=dave", "dave's arrival");
  await dave.expect(created(page.id, "name=page"));
  await dave.close();
  const gone = await page.waitFor((e) => e.kind === "connectionDestroyed" && e.id === dave.id, "dave's departure");
  assert.equal(gone.reason, "clientDisconnected");
  assert.deepEqual(await page.page.evaluate(() => [...window.peer.s.connections.keys()]), [carol.id]);
  // The page leaving is a drop for carol.
  await page.page.evaluate(() => window.peer.s.disconnect());
  await carol.expect(new RegExp(`^\\* connection dropped: ${literal(page.id)}$`));
  const events = await page.events();
  assert.equal(events.filter((e) => e.kind === "connectionCreated").length, 2, JSON.stringify(events));
});

withPeers("a cut link is resumed: same connection, nothing lost, nothing doubled, order kept", async ({ room, join }) => {
  const sid = newSessionId();
  const proxy = await startProxy(ctx.server.port);
  try {
    // The page comes through the proxy (so its origin is the proxy's, and
    // the CSP's connect-src 'self' lets it connect there); carol directly.
    const page = await join({ sessionId: sid, token: token(sid), origin: proxy.url });
    const carol = await room.join(sid, token(sid), "carol");
    await page.waitFor((e) => e.kind === "connectionCreated" && e.id === carol.id, "carol created");
    await page.signal({ type: "chat", data: "before the cut" });
    await carol.expect(new RegExp(`^\\[${literal(page.id)}\\] chat: before the cut$`));

    const N = 5;
    for (let round = 1; round <= 2; round++) {
      assert.ok(proxy.cut() >= 1, "the page's link went through the proxy");
      // Both sides send while the page's link is down.
      for (let i = 1; i <= N; i++) carol.send(`carol ${round}.${i}`);
      const sent = page.signalAll(Array.from({ length: N }, (_, i) => ({ type: "chat", data: `page ${round}.${i + 1}` })));
      await page.waitFor((e) => e.kind === "sessionReconnecting", `reconnecting (round ${round})`);
      const back = await page.waitFor((e) => e.kind === "sessionReconnected", `reconnected (round ${round})`);
      assert.equal(back.id, page.id, "the same connection");
      assert.deepEqual(await sent, Array(N).fill(null), "every signal sent while reconnecting was routed");
      const { lines } = await carol.until(new RegExp(`^\\[${literal(page.id)}\\] chat: page ${round}\\.${N}$`));
      const got = lines.filter((l) => l.startsWith(`[${page.id}] chat: page ${round}.`)).map((l) => l.split(": ")[1]);
      assert.deepEqual(got, Array.from({ length: N }, (_, i) => `page ${round}.${i + 1}`), "carol got the page's signals in order");
      await page.waitFor(isSignal("chat", `carol ${round}.${N}`, carol.id), `carol's last signal (round ${round})`);
    }
    // One more from each side after the last resume, then count.
    await page.signal({ type: "chat", data: "after" });
    const { lines } = await carol.until(new RegExp(`^\\[${literal(page.id)}\\] chat: after$`));
    const all = [...carol.out.all];
    assert.ok(lines.length > 0);
    // The page joined before carol: one created, and never a drop or a
    // second created across the resumes.
    assert.equal(all.filter((l) => l.startsWith("* connection created")).length, 1, all.join("\n"));
    assert.ok(!all.some((l) => l.startsWith("* connection dropped")), `carol saw a drop:\n${all.join("\n")}`);
    const events = await page.events();
    const fromCarol = events.filter((e) => e.kind === "signal" && e.from === carol.id).map((e) => e.data);
    const want = [];
    for (let round = 1; round <= 2; round++) for (let i = 1; i <= N; i++) want.push(`carol ${round}.${i}`);
    assert.deepEqual(fromCarol, want, "the page got carol's signals exactly once, in order");
    assert.ok(!events.some((e) => e.kind === "connectionDestroyed" || e.kind === "sessionDisconnected" || e.kind === "exception"), JSON.stringify(events));
    assert.equal(events.filter((e) => e.kind === "sessionReconnected").length, 2);
  } finally {
    await proxy.close();
  }
});
