// Helpers for the Node suite: otc-server and c-examples/chat as child
// processes whose output lines a test can wait for, each wait bounded.
//
// The binaries come from OTC_SERVER_BIN and OTC_CHAT_BIN (tests/node/run.sh
// builds both and sets them).

import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Upper bound, in milliseconds, on any single wait (not a timing test). */
export const WAIT_MS = 20_000;

export function binary(variable) {
  const path = process.env[variable];
  try {
    accessSync(path ?? "", constants.X_OK);
  } catch {
    throw new Error(`${variable} must name an executable (tests/node/run.sh sets it); got ${JSON.stringify(path)}`);
  }
  return path;
}

/** Escapes `text` for use inside a RegExp. */
export function literal(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The claims of a JWT (no signature check), for messages and asserts. */
export function jwtClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
  } catch {
    return null;
  }
}

/** What a token is, readably: the decoded claims of a JWT, else its form. */
export function describeToken(token) {
  if (token.startsWith("T1==")) {
    return `T1 token: ${Buffer.from(token.slice(4), "base64").toString("utf8")}`;
  }
  const claims = jwtClaims(token);
  return claims ? `JWT claims: ${JSON.stringify(claims)}` : `token ${JSON.stringify(token.slice(0, 40))}...`;
}

/** Settles with `promise`, or rejects after `ms` with a message about `what`. */
export function within(promise, what, ms = WAIT_MS) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Every line a child process writes (stdout and stderr alike), with a cursor:
 * expect() consumes lines up to the first that matches, so a test reads the
 * output in order, as a person would.
 */
export class Lines {
  constructor(name, ...streams) {
    this.name = name;
    this.all = [];
    this.pos = 0;
    this.ended = false;
    this.waiters = new Set();
    let open = streams.length;
    for (const stream of streams) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        partial += chunk;
        let nl;
        while ((nl = partial.indexOf("\n")) >= 0) {
          this.all.push(partial.slice(0, nl).replace(/\r$/, ""));
          partial = partial.slice(nl + 1);
        }
        this.#notify();
      });
      stream.on("end", () => {
        if (partial) this.all.push(partial);
        partial = "";
        open -= 1;
        if (open === 0) this.ended = true;
        this.#notify();
      });
    }
  }

  #notify() {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  #changed() {
    return new Promise((resolve) => {
      this.waiters.add(resolve);
    });
  }

  /**
   * Resolves with { match, lines } for the first new line matching `pattern`
   * (`lines`: every line consumed, the matching one last).
   */
  async until(pattern, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    const start = this.pos;
    for (;;) {
      while (this.pos < this.all.length) {
        const line = this.all[this.pos];
        this.pos += 1;
        const match = pattern.exec(line);
        if (match) return { match, lines: this.all.slice(start, this.pos) };
      }
      if (this.ended) {
        throw new Error(`${this.name} ended before printing ${pattern}; it printed:\n  ${this.all.join("\n  ")}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`${this.name} printed no ${pattern} within ${ms} ms; it printed:\n  ${this.all.join("\n  ")}`);
      }
      let timer;
      await Promise.race([
        this.#changed(),
        new Promise((resolve) => {
          timer = setTimeout(resolve, left);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** The match of the first new line matching `pattern`. */
  async expect(pattern, ms = WAIT_MS) {
    return (await this.until(pattern, ms)).match;
  }

  /**
   * Waits until every pattern has matched a new line, in any order; resolves
   * with every line consumed.
   */
  async expectAll(patterns, ms = WAIT_MS) {
    const deadline = Date.now() + ms;
    const left = [...patterns];
    const consumed = [];
    const any = { exec: (line) => (left.some((p) => p.test(line)) ? [line] : null), toString: () => left.join(" and ") };
    while (left.length > 0) {
      const { lines } = await this.until(any, Math.max(0, deadline - Date.now()));
      consumed.push(...lines);
      const line = lines[lines.length - 1];
      left.splice(left.findIndex((p) => p.test(line)), 1);
    }
    return consumed;
  }
}

/** Resolves with the exit code (or signal name) of `child`, or null after `ms`. */
function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

/**
 * otc-server on a free loopback port with one project of our own (and
 * whatever more `args` configure, such as an application). stop() sends
 * SIGTERM (a graceful shutdown) and resolves with the exit code.
 */
export class Server {
  static async start({ apiKey, apiSecret, args = [] }) {
    // The server reads OTC_* variables as settings; ours are not for it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTC_")));
    const child = spawn(
      binary("OTC_SERVER_BIN"),
      ["serve", "--listen", "127.0.0.1:0", "--api-key", apiKey, "--api-secret", apiSecret, ...args],
      { env, stdio: ["ignore", "pipe", "pipe"] },
    );
    const server = new Server(child);
    try {
      const m = await server.out.expect(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      server.url = m[1];
    } catch (e) {
      await server.stop();
      throw new Error(`${e.message}\nserver log:\n${server.log()}`);
    }
    return server;
  }

  constructor(child) {
    this.child = child;
    this.url = null;
    this.out = new Lines("otc-server", child.stdout);
    this.err = [];
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => this.err.push(chunk));
  }

  log() {
    return this.err.join("");
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    let code = await exited(this.child, 15_000);
    if (code === null) {
      this.child.kill("SIGKILL");
      await exited(this.child, 5_000);
      code = "killed";
    }
    return code;
  }
}

/** One c-examples/chat process in a session. */
export class Chat {
  /**
   * Starts the client (it connects on its own; see connected()). `log` is
   * the library log level (the library logs to stderr, which is read with
   * the rest of the output).
   */
  static spawn({ server, apiKey, sessionId, token, name, dir, log = null }) {
    const args = [
      "--server", server,
      "--id-file", join(dir, `${name}.id`),
      "--linger", "0",
      "--timeout", String(WAIT_MS / 1000),
    ];
    if (log !== null) args.push("--log", String(log));
    args.push(apiKey, sessionId, token);
    const child = spawn(binary("OTC_CHAT_BIN"), args, { stdio: ["pipe", "pipe", "pipe"] });
    // A client that already left must not turn a later write into a crash.
    child.stdin.on("error", () => {});
    return new Chat(child, name, token);
  }

  constructor(child, name, token) {
    this.child = child;
    this.name = name;
    this.token = token;
    this.id = null;
    this.out = new Lines(`chat ${name}`, child.stdout, child.stderr);
  }

  /** Waits for "* connected as <id>"; sets and returns this.id. */
  async connected() {
    try {
      this.id = (await this.expect(/^\* connected as (\S+)$/))[1];
    } catch (e) {
      e.message += `\n(the token of chat ${this.name}: ${describeToken(this.token)})`;
      throw e;
    }
    return this.id;
  }

  expect(pattern, ms) {
    return this.out.expect(pattern, ms);
  }

  until(pattern, ms) {
    return this.out.until(pattern, ms);
  }

  expectAll(patterns, ms) {
    return this.out.expectAll(patterns, ms);
  }

  /** [type, data] of the next signal sent with no connection (by the server). */
  async nextServerSignal() {
    const m = await this.expect(/^\[server\] ([^:]*): (.*)$/);
    return [m[1], m[2]];
  }

  /** One line of input: a chat message, or a command such as /quit. */
  send(line) {
    this.child.stdin.write(`${line}\n`);
  }

  async close() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        this.child.stdin.end("/quit\n");
      } catch {
        // already gone
      }
      if ((await exited(this.child, WAIT_MS)) === null) {
        this.child.kill("SIGKILL");
        await exited(this.child, 5_000);
      }
    }
  }
}

/** A scratch directory and the chat clients of one test, closed together. */
export class Room {
  constructor(server, apiKey) {
    this.server = server;
    this.apiKey = apiKey;
    this.dir = mkdtempSync(join(tmpdir(), "otc-node-chat-"));
    this.chats = [];
  }

  /**
   * Starts a chat client in `sessionId`; unless `connect` is false, waits
   * until it is connected.
   */
  async join(sessionId, token, name, { connect = true, log = null } = {}) {
    const chat = Chat.spawn({ server: this.server, apiKey: this.apiKey, sessionId, token, name, dir: this.dir, log });
    this.chats.push(chat);
    if (connect) await chat.connected();
    return chat;
  }

  /** The id file the chat example wrote (the id it printed, once more). */
  idFile(name) {
    return readFileSync(join(this.dir, `${name}.id`), "utf8").trim();
  }

  async close() {
    await Promise.all(this.chats.map((c) => c.close()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
