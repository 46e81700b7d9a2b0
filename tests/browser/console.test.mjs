// The developer's console page itself (otc-server --console, /console/) in
// headless chromium: its headers, then a person's use of it with a C chat
// client in the same session: fill in the token, join, see the participant
// list follow the C client, send it a private and a broadcast signal, and
// see its signals in the log.

import assert from "node:assert/strict";
import { test } from "node:test";

import { API_KEY, Room, WAIT_MS, literal, newSessionId, openPage, restSignal, serverAndBrowserForFile, token } from "./harness.mjs";

const ctx = serverAndBrowserForFile();

/** The log entries of the page, as {kind, text, type, data, from}. */
function logEntries(page) {
  return page.$$eval("#log li", (lis) =>
    lis.map((li) => ({
      kind: li.dataset.kind,
      text: li.querySelector(".text")?.textContent ?? "",
      type: li.dataset.type,
      data: li.dataset.data,
      from: li.dataset.from,
    })),
  );
}

/** Waits (bounded) until the page's log has an entry for which `pred` holds. */
async function logged(page, pred, what) {
  const deadline = Date.now() + WAIT_MS;
  for (let round = 0; round < 2_000; round++) {
    const entries = await logEntries(page);
    const hit = entries.find(pred);
    if (hit) return hit;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the console logged no ${what} within ${WAIT_MS} ms; its log:\n  ${(await logEntries(page)).map((e) => `${e.kind} ${e.text}`).join("\n  ")}`);
}

const participants = (page) => page.$$eval("#participants li", (lis) => lis.map((li) => li.dataset.connectionId));

test("the console is served with its security headers, and only from the server", async () => {
  const r = await fetch(`${ctx.server.url}/console/`, { signal: AbortSignal.timeout(WAIT_MS) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-security-policy"), /default-src 'self'/);
  assert.doesNotMatch(r.headers.get("content-security-policy"), /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  // Everything the page loaded came from the server itself.
  const { page, context, problems } = await openPage(ctx.chromium.browser, ctx.server.url);
  try {
    const urls = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name));
    assert.ok(urls.some((u) => u.endsWith("/console/otc/index.js")), urls.join("\n"));
    for (const u of urls) assert.ok(u.startsWith(`${ctx.server.url}/console/`), u);
    assert.equal(await page.$eval("#server-url", (e) => e.value), ctx.server.url, "the server URL defaults to the page's origin");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("join with a token, follow the participants, signal a C client both ways", { timeout: 8 * WAIT_MS }, async () => {
  const sid = newSessionId();
  const room = new Room(ctx.server.url, API_KEY);
  const { page, context, problems } = await openPage(ctx.chromium.browser, ctx.server.url);
  try {
    const carol = await room.join(sid, token(sid, "name=carol"), "carol");

    // What a person does: paste, join.
    await page.type("#api-key", API_KEY);
    await page.type("#session-id", sid);
    await page.$eval("#token", (e, v) => (e.value = v), token(sid, "name=console"));
    await page.click("#connect");
    await page.waitForSelector('#status[data-state="connected"]');
    const own = await page.$eval("#log li[data-kind=connected]", (li) => li.dataset.connectionId);
    assert.match(own, /^[0-9a-f]{32}$/);
    await carol.expect(new RegExp(`^\\* connection created: ${literal(own)} data=name=console$`));

    // The participant list: itself and carol (already there).
    await page.waitForFunction((id) => document.querySelector(`#participants li[data-connection-id="${id}"]`), {}, carol.id);
    assert.deepEqual((await participants(page)).sort(), [own, carol.id].sort());
    assert.match(await page.$eval(`#participants li[data-connection-id="${carol.id}"]`, (li) => li.textContent), /name=carol/);

    // A private signal to carol, picked in "To".
    await page.select("#signal-to", carol.id);
    await page.type("#signal-type", "private");
    await page.type("#signal-data", "hello carol, from the console");
    await page.click("#send-button");
    await carol.expect(new RegExp(`^\\[${literal(own)} -> ${literal(carol.id)}\\] private: hello carol, from the console$`));
    await logged(page, (e) => e.kind === "sent" && e.text.includes("hello carol, from the console"), "sent entry");

    // A broadcast: carol gets it, and so does the console (its own).
    await page.select("#signal-to", "");
    await page.$eval("#signal-type", (e) => (e.value = "chat"));
    await page.$eval("#signal-data", (e) => (e.value = "hello everyone"));
    await page.click("#send-button");
    await carol.expect(new RegExp(`^\\[${literal(own)}\\] chat: hello everyone$`));
    await logged(page, (e) => e.kind === "signal" && e.data === "hello everyone" && e.from === own, "its own broadcast");

    // carol's signals, and the application server's, in the log.
    carol.send("hi console");
    const hit = await logged(page, (e) => e.kind === "signal" && e.data === "hi console", "carol's broadcast");
    assert.equal(hit.type, "chat");
    assert.equal(hit.from, carol.id);
    carol.send(`/to ${own} just for you`);
    const dm = await logged(page, (e) => e.kind === "signal" && e.data === "just for you", "carol's private signal");
    assert.equal(dm.type, "private");
    assert.equal(dm.from, carol.id);
    assert.equal(await restSignal(ctx.server, sid, { type: "notice", data: "<b>not html</b>" }), 204);
    const rest = await logged(page, (e) => e.kind === "signal" && e.type === "notice", "the REST signal");
    assert.equal(rest.from, "", "a REST signal has no sender");
    assert.match(rest.text, /^server notice: <b>not html<\/b>$/);
    assert.equal(await page.$$eval("#log b", (b) => b.length), 0, "data is shown as text, never as HTML");

    // A later arrival and departure update the list.
    const dave = await room.join(sid, token(sid, "name=dave"), "dave");
    await page.waitForFunction((id) => document.querySelector(`#participants li[data-connection-id="${id}"]`), {}, dave.id);
    assert.equal(await page.$eval("#participant-count", (e) => e.textContent), "3");
    await dave.close();
    await page.waitForFunction((id) => !document.querySelector(`#participants li[data-connection-id="${id}"]`), {}, dave.id);
    assert.ok(!(await page.$$eval("#signal-to option", (os) => os.map((o) => o.value))).includes(dave.id), "dave left the To list");
    await logged(page, (e) => e.kind === "left" && e.text.startsWith(dave.id), "dave's departure");

    // Leave: carol sees the drop, the page is back to the form.
    await page.click("#disconnect");
    await carol.expect(new RegExp(`^\\* connection dropped: ${literal(own)}$`));
    await page.waitForSelector('#status[data-state="disconnected"]');
    assert.deepEqual(await participants(page), []);
    assert.deepEqual(problems.filter((p) => !p.includes("favicon")), []);
  } finally {
    await context.close();
    await room.close();
  }
});

test("a bad token is reported in the log, and the form stays usable", async () => {
  const sid = newSessionId();
  const { page, context } = await openPage(ctx.chromium.browser, ctx.server.url);
  try {
    await page.type("#api-key", API_KEY);
    await page.type("#session-id", sid);
    await page.type("#token", "not-a-token");
    await page.click("#connect");
    const e = await logged(page, (x) => x.kind === "error" && x.text.includes("connect refused"), "the refusal");
    assert.match(e.text, /error 1004/);
    await page.waitForSelector('#status[data-state="disconnected"]');
    assert.equal(await page.$eval("#connect", (b) => b.disabled), false);
  } finally {
    await context.close();
  }
});
