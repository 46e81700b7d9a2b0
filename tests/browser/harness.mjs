// Helpers for the browser suite: otc-server with its console on a free
// loopback port, headless Debian chromium driven by puppeteer-core, pages
// that use the JavaScript client as the console serves it, a TCP proxy a
// test can cut, and the C chat example as the other participant (the
// Chat/Room helpers of the Node suite, tests/node/harness.mjs). Every wait
// is bounded in time, every loop in count.
//
// OTC_SERVER_BIN and OTC_CHAT_BIN name the binaries (tests/browser/run.sh
// sets both).

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { after, before } from "node:test";
import assert from "node:assert/strict";

import puppeteer from "puppeteer-core";

import { binary, Lines } from "../node/harness.mjs";

export { Room, literal } from "../node/harness.mjs";

/** Upper bound, in milliseconds, on any single wait (not a timing test). */
export const WAIT_MS = 20_000;

/** The built-in development project: what the console's users paste. */
export const API_KEY = "100000";

export const CHROMIUM = process.env.OTC_CHROMIUM || "/usr/bin/chromium";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment of a child: without OTC_* (the server reads them as settings). */
function childEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTC_")));
  env.NO_PROXY = env.no_proxy = "127.0.0.1,localhost";
  return env;
}

/** Runs the server's CLI (create-session, token, rest-token) for the development project. */
export function cli(args) {
  return execFileSync(binary("OTC_SERVER_BIN"), args, { encoding: "utf8", timeout: 10_000, env: childEnv() }).trim();
}

export const newSessionId = () => cli(["create-session"]);
export const token = (sessionId, data) => cli(["token", "--session-id", sessionId, ...(data ? ["--data", data] : [])]);

/** Resolves with the exit code (or signal name) of `child`, or null after `ms`. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/**
 * otc-server with the console on, on a port the kernel picks (it prints the
 * address it got). stop() sends SIGTERM to its PID and resolves with the
 * exit code (SIGKILL after 15 s).
 */
export async function startServer() {
  const child = spawn(
    binary("OTC_SERVER_BIN"),
    ["serve", "--listen", "127.0.0.1:0", "--console", "--log-level", "warn"],
    { env: childEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  const out = new Lines("otc-server", child.stdout);
  let log = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => (log = (log + d).slice(-50_000)));
  const server = {
    url: null,
    port: null,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, "SIGTERM");
      let code = await exited(child, 15_000);
      if (code === null) {
        process.kill(child.pid, "SIGKILL");
        await exited(child, 5_000);
        code = "killed";
      }
      return code;
    },
  };
  try {
    server.url = (await out.expect(/listening on (http:\/\/127\.0\.0\.1:\d+)/, WAIT_MS))[1];
    await out.expect(/developer's console at http:\/\/127\.0\.0\.1:\d+\/console\/$/, WAIT_MS);
  } catch (e) {
    await server.stop();
    throw new Error(`${e.message}\nserver log:\n${log}`);
  }
  server.port = Number(new URL(server.url).port);
  return server;
}

/** POSTs a signal through the REST API (to one connection when given); resolves with the HTTP status. */
export async function restSignal(server, sessionId, body, connectionId) {
  const path = connectionId
    ? `/v2/project/${API_KEY}/session/${sessionId}/connection/${connectionId}/signal`
    : `/v2/project/${API_KEY}/session/${sessionId}/signal`;
  const r = await fetch(server.url + path, {
    method: "POST",
    headers: { "X-OPENTOK-AUTH": cli(["rest-token"]), "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  return r.status;
}

/**
 * A TCP proxy on a free loopback port in front of 127.0.0.1:`port`. cut()
 * destroys every pair of sockets open now (new connections still pass).
 */
export async function startProxy(port) {
  const pairs = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, "127.0.0.1");
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get links() {
      return pairs.size;
    },
    cut() {
      const n = pairs.size;
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      return n;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The arguments chromium runs with (beside puppeteer's own and a fresh --user-data-dir). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Headless chromium with a fresh profile; close() ends it and removes the profile. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "otc-chromium-"));
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`],
      timeout: WAIT_MS,
      protocolTimeout: 2 * WAIT_MS,
      env: childEnv(),
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    browser,
    async close() {
      try {
        await Promise.race([browser.close(), sleep(10_000)]);
        const proc = browser.process();
        if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A fresh page (in its own browser context, so pages share nothing) at
 * `origin`/console/, with what it logs and throws collected for messages.
 */
export async function openPage(browser, origin) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warn") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  const response = await page.goto(`${origin}/console/`, { waitUntil: "load" });
  if (!response || response.status() !== 200) throw new Error(`GET ${origin}/console/: ${response?.status()}`);
  await page.waitForSelector("body[data-ready=true]");
  return { page, context, problems };
}

/**
 * A participant in a browser page: the JavaScript client imported from the
 * console's files (/console/otc/index.js, under the console's CSP), driven
 * with page.evaluate. Everything the session reports is recorded in the
 * page, in order; waitFor() reads that record.
 */
export class BrowserPeer {
  static async join(browser, origin, { sessionId, token, types = [] }) {
    const { page, context, problems } = await openPage(browser, origin);
    const peer = new BrowserPeer(page, context, problems);
    const result = await page.evaluate(
      async (apiKey, sessionId, token, serverUrl, types) => {
        const { default: OT } = await import("/console/otc/index.js");
        const events = [];
        const s = OT.initSession(apiKey, sessionId, { serverUrl });
        window.peer = { s, events };
        const signal = (listener) => (e) =>
          events.push({ kind: "signal", listener, type: e.signalType, data: e.data, from: e.from ? e.from.connectionId : null });
        s.on("signal", signal("signal"));
        for (const t of types) s.on(`signal:${t}`, signal(`signal:${t}`));
        s.on({
          connectionCreated: (e) => events.push({ kind: "connectionCreated", id: e.connection.connectionId, data: e.connection.data }),
          connectionDestroyed: (e) => events.push({ kind: "connectionDestroyed", id: e.connection.connectionId, reason: e.reason }),
          sessionReconnecting: () => events.push({ kind: "sessionReconnecting" }),
          sessionReconnected: () => events.push({ kind: "sessionReconnected", id: s.connection.connectionId }),
          sessionDisconnected: (e) => events.push({ kind: "sessionDisconnected", reason: e.reason }),
          exception: (e) => events.push({ kind: "exception", code: e.code, message: e.message }),
        });
        try {
          await s.connect(token);
        } catch (e) {
          return { error: `${e.code} ${e.message}` };
        }
        return { id: s.connection.connectionId, origin: location.origin };
      },
      API_KEY,
      sessionId,
      token,
      origin,
      types,
    );
    if (result.error) throw new Error(`the page could not join: ${result.error}\n${problems.join("\n")}`);
    peer.id = result.id;
    return peer;
  }

  constructor(page, context, problems) {
    this.page = page;
    this.context = context;
    this.problems = problems;
    this.id = null;
    this.seen = 0;
  }

  /** Every event recorded so far. */
  events() {
    return this.page.evaluate(() => window.peer.events);
  }

  /**
   * Waits for the first event after the previous match (or from the start
   * with { fromStart: true }) for which `pred` holds; resolves with it.
   */
  async waitFor(pred, what, { ms = WAIT_MS, fromStart = false } = {}) {
    const deadline = Date.now() + ms;
    let start = fromStart ? 0 : this.seen;
    for (let round = 0; round < 10_000; round++) {
      const all = await this.events();
      for (let i = start; i < all.length; i++) {
        if (pred(all[i])) {
          this.seen = i + 1;
          return all[i];
        }
      }
      start = all.length;
      if (Date.now() >= deadline) break;
      await sleep(25);
    }
    const all = await this.events();
    throw new Error(`page ${this.id}: no ${what} within ${ms} ms; it recorded:\n  ${all.map((e) => JSON.stringify(e)).join("\n  ")}\n${this.problems.join("\n")}`);
  }

  /** Resolves once the server routed it (or rejects with the client's error). */
  signal(options) {
    return this.page.evaluate(async (o) => {
      try {
        await window.peer.s.signal(o);
        return null;
      } catch (e) {
        return `${e.code} ${e.message}`;
      }
    }, options).then((err) => {
      if (err) throw new Error(`signal ${JSON.stringify(options)} refused: ${err}`);
    });
  }

  /** Starts sending each of `list` in order without waiting; resolves with their outcomes once all are answered. */
  signalAll(list) {
    return this.page.evaluate(async (list) => {
      const all = list.map((o) => window.peer.s.signal(o).then(() => null, (e) => `${e.code} ${e.message}`));
      return Promise.all(all);
    }, list);
  }

  async close() {
    try {
      await this.page.evaluate(() => window.peer?.s.disconnect()).catch(() => {});
    } finally {
      await this.context.close().catch(() => {});
    }
  }
}

/**
 * One otc-server and one chromium for a whole test file: started before its
 * first test, stopped after its last (the server must exit 0 on SIGTERM).
 * Returns the object whose `server` and `chromium` the tests use.
 */
export function serverAndBrowserForFile() {
  const ctx = { server: undefined, chromium: undefined };
  before(async () => {
    ctx.server = await startServer();
    ctx.chromium = await launchBrowser();
  });
  after(async () => {
    if (ctx.chromium) await ctx.chromium.close();
    if (!ctx.server) return;
    const code = await ctx.server.stop();
    if (code !== 0) console.error(`otc-server log:\n${ctx.server.log()}`);
    assert.equal(code, 0, "otc-server did not shut down cleanly on SIGTERM");
  });
  return ctx;
}

