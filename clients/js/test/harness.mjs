// Helpers for the tests: the real otc-server on a free loopback port (its
// own CLI mints session ids and tokens), a TCP proxy that a test can cut,
// stall or block, and bounded waits.

import { spawn, execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = resolve(HERE, "..");

/** Upper bound on any single wait, in ms (these are not timing tests). */
export const WAIT_MS = 15_000;

export function serverBin() {
  const bin = process.env.OTC_SERVER_BIN || join(PACKAGE_DIR, "..", "..", "target", "debug", "otc-server");
  accessSync(bin, constants.X_OK);
  return resolve(bin);
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race with the server's bind is retried by startServer). */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Settles with `promise`, or rejects after `ms` naming `what`. */
export function within(promise, what, ms = WAIT_MS) {
  let t;
  const late = new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(t));
}

/** Polls `cond` every 10 ms until true, at most `ms`. */
export async function until(cond, what, ms = WAIT_MS) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

/**
 * Starts otc-server on a free loopback port with `args`; resolves once
 * /healthz answers. `stop()` sends SIGTERM to its PID and waits for the exit.
 */
export async function startServer(args = []) {
  const bin = serverBin();
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const child = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`, "--log-level", "warn", ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NO_PROXY: "127.0.0.1,localhost" },
    });
    let log = "";
    child.stderr.on("data", (d) => (log = (log + d).slice(-20_000)));
    let exited = false;
    const exit = new Promise((r) => child.on("exit", (code, sig) => ((exited = true), r({ code, sig }))));
    const base = `http://127.0.0.1:${port}`;
    const end = Date.now() + WAIT_MS;
    while (!exited && Date.now() < end) {
      try {
        const r = await fetch(`${base}/healthz`);
        if (r.ok) break;
      } catch {}
      await sleep(25);
    }
    if (exited) continue; // the port was taken meanwhile: another one
    if (Date.now() >= end) {
      child.kill("SIGTERM");
      throw new Error(`otc-server did not answer /healthz within ${WAIT_MS} ms:\n${log}`);
    }
    return {
      url: base,
      port,
      log: () => log,
      async stop() {
        if (!exited) {
          process.kill(child.pid, "SIGTERM");
          const t = setTimeout(() => !exited && process.kill(child.pid, "SIGKILL"), 5000);
          await exit;
          clearTimeout(t);
        }
      },
    };
  }
  throw new Error("could not start otc-server on a free port");
}

function cli(args) {
  return execFileSync(serverBin(), args, { encoding: "utf8", timeout: 10_000 }).trim();
}

export const API_KEY = "100000";
export const newSessionId = () => cli(["create-session"]);
export const token = (sessionId, { role, data } = {}) =>
  cli(["token", "--session-id", sessionId, ...(role ? ["--role", role] : []), ...(data !== undefined ? ["--data", data] : [])]);
export const restToken = () => cli(["rest-token"]);

/** POST a signal through the REST API (to one connection when `connectionId` is given); resolves to the HTTP status. */
export async function restSignal(server, sessionId, body, connectionId) {
  const path = connectionId
    ? `/v2/project/${API_KEY}/session/${sessionId}/connection/${connectionId}/signal`
    : `/v2/project/${API_KEY}/session/${sessionId}/signal`;
  const r = await fetch(server.url + path, {
    method: "POST",
    headers: { "X-OPENTOK-AUTH": restToken(), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return r.status;
}

/**
 * A TCP proxy on a free loopback port in front of `target` (host:port):
 * cut() destroys every open pair of sockets, stall() stops moving bytes
 * (sockets stay open), block() refuses new connections, unblock() ends both.
 */
export async function startProxy(targetPort) {
  const pairs = new Set();
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, stalled: false };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.on("data", (d) => !pair.stalled && upstream.write(d));
    upstream.on("data", (d) => !pair.stalled && client.write(d));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    get links() {
      return pairs.size;
    },
    cut() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    /** The links open now stop moving bytes (sockets stay open); new links work. */
    stall() {
      for (const p of pairs) p.stalled = true;
    },
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    close() {
      this.cut();
      return new Promise((r) => server.close(r));
    },
  };
}
