// One session: its state machine, its links and what it tells the
// application. It follows the C library's src/session.rs step by step, so a
// browser and a C program are the same kind of participant:
//
//   new --connect--> connecting --connected--> connected <-----------------+
//    ^                   | refused / unreachable     |  | link lost:        | resumed:
//    |                   v   (exception)             |  | sessionReconnecting | sessionReconnected
//    +------------  disconnected <-- disconnect -----+  v                   |
//                        ^  ^                       reconnecting -----------+
//                        |  +-- refused / window over (exception) --+
//                        +-- server says disconnected
//
// Exactly-once, in order, across reconnections (protocol/src/messages.rs):
//  * outgoing: every signal gets the next client seq and stays in the outbox
//    until the server answers it; signals sent while reconnecting wait there
//    too; after a resume every one of them is sent again, in order, under
//    its number (the server routes a number once, and answers a repeat as it
//    answered first);
//  * incoming: events carry the session's event seq; one at or below the
//    highest handled is dropped; the highest handled is acknowledged (every
//    64 events or 250 ms) and sent in `resume`, and the server replays what
//    came after it.
//
// Events and completion handlers go through one queue, delivered in order
// from a microtask, never from inside the call that caused them; any method
// may be called from a handler.

import { ErrorCode, type DisconnectReasonWire } from "./codes.js";
import { Connection } from "./connection.js";
import { OTError, otError } from "./errors.js";
import { Emitter } from "./events.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_SERVER_URL, MAX_SERVER_URLS, PROTOCOL_VERSION } from "./limits.js";
import { connectFrame, eventSeq, type ClientMessage, type ServerMessage } from "./messages.js";
import { Outbox, type Completion, type Pending } from "./outbox.js";
import { ACK_EVERY_EVENTS, ACK_INTERVAL_MS, DISCONNECT_WAIT_MS } from "./policy.js";
import { attemptTimeout, Backoff, policy, type Policy } from "./reconnect.js";
import { Link, socketFactory, wsUrl, type LinkEnd, type SocketFactory } from "./transport.js";
import { checkId, checkSignal, checkToken, utf8Length } from "./validate.js";

export type LogLevel = "error" | "warn" | "info" | "debug";
export type Logger = (level: LogLevel, message: string) => void;

export interface SessionOptions {
  /**
   * The server's base URL (http://, https://, ws:// or wss://), or a list of
   * at most 16 tried in order (and in turn by resume attempts). Default: the
   * environment variable OTC_SERVER_URL under Node, else
   * http://127.0.0.1:4443.
   */
  serverUrl?: string | string[];
  /** When true the server sends this client no connection events. */
  connectionEventsSuppressed?: boolean;
  /** How long to try resuming a dropped link, in ms (0 = never); default: the server's grace plus half of it. */
  reconnectionWindowMs?: number;
  /** A WebSocket constructor to use instead of `ws` (Node) or the global one. */
  WebSocket?: SocketFactory;
  /** Where log lines go; default: errors to console.error. */
  logger?: Logger;
}

export type SessionState = "new" | "connecting" | "connected" | "reconnecting" | "disconnecting" | "disconnected";

export interface SignalOptions {
  type?: string;
  data?: string;
  /** A Connection (or connection id), or a list of them; absent or empty: the whole session, the sender included. */
  to?: Connection | string | Array<Connection | string> | null;
  /** While reconnecting: queue the signal (true, the default) or fail at once with 1010. */
  retryAfterReconnect?: boolean;
}

export type CompletionHandler = (error?: OTError) => void;

/** How a link, and maybe the session, ended. */
type End =
  /** Left on purpose (disconnect, forced out): no exception. */
  | { kind: "clean"; reason: string }
  /** Ended abnormally: exception, then sessionDisconnected. */
  | { kind: "failed"; error: OTError; reason: string }
  /** The link broke: the connection may be resumed. */
  | { kind: "lost"; error: OTError }
  /** The session moved on (disconnected, connected again): report nothing. */
  | { kind: "stale" };

type Contact = { link: Link; msg: ServerMessage } | { unreachable: OTError };

interface Ticket {
  connectionId: string;
  secret: string;
}

/** `force_disconnected` -> `forceDisconnected` (the Vonage JS spelling of reasons). */
export function reasonName(wire: string): string {
  return wire.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

const defaultLogger: Logger = (level, message) => {
  if (level === "error") console.error(`otc: ${message}`);
};

function serverUrls(given: string | string[] | undefined): string[] {
  let list: string[];
  if (given === undefined) {
    const env = (globalThis as any).process?.env?.OTC_SERVER_URL;
    list = typeof env === "string" && env.trim() ? env.split(",").map((s: string) => s.trim()) : [DEFAULT_SERVER_URL];
  } else {
    list = Array.isArray(given) ? given : [given];
  }
  if (list.length === 0) throw otError("NullOrInvalidParameter", "no server URL");
  if (list.length > MAX_SERVER_URLS) {
    throw otError("NullOrInvalidParameter", `${list.length} server URLs, more than the limit of ${MAX_SERVER_URLS}`);
  }
  return list.map((u, i) => {
    if (typeof u !== "string" || !u.trim()) throw otError("NullOrInvalidParameter", `server URL ${i + 1} of ${list.length} is empty`);
    return wsUrl(u);
  });
}

export class Session extends Emitter {
  readonly apiKey: string;
  readonly sessionId: string;
  readonly #urls: string[];
  readonly #opts: SessionOptions;
  readonly #log: Logger;

  #state: SessionState = "new";
  #epoch = 0;
  /** Index in #urls of the link that last joined: where resume attempts start. */
  #route = 0;
  #own: Connection | undefined;
  #peers = new Map<string, Connection>();
  #outbox = new Outbox();
  /** Highest event seq handled on the current connection. */
  #lastEventSeq = 0;
  /** The joined link (connected or disconnecting). */
  #link: Link | undefined;
  /** A link being opened (connect or resume attempt). */
  #attempt: Link | undefined;
  /** Wakes the serving loop when a disconnect is requested. */
  #stop: (() => void) | undefined;
  /** Ends the backoff sleep early. */
  #wake: (() => void) | undefined;
  #connectDone: ((e?: OTError) => void) | undefined;

  #queue: Array<() => void> = [];
  #scheduled = false;

  constructor(apiKey: string, sessionId: string, options: SessionOptions = {}) {
    super();
    const bad = checkId("API key", typeof apiKey === "number" ? String(apiKey) : apiKey) ?? checkId("session id", sessionId);
    if (bad) throw bad;
    this.apiKey = String(apiKey);
    this.sessionId = sessionId;
    this.#opts = { ...options };
    this.#log = options.logger ?? defaultLogger;
    const w = options.reconnectionWindowMs;
    if (w !== undefined && (typeof w !== "number" || !Number.isFinite(w) || w < 0)) {
      throw otError("NullOrInvalidParameter", "reconnectionWindowMs must be a number of milliseconds, 0 or more");
    }
    this.#urls = serverUrls(options.serverUrl);
    this.reportHandlerError = (what, e) => this.#log("error", `${what}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }

  /** This client's own connection while connected (or reconnecting, or disconnecting). */
  get connection(): Connection | undefined {
    return this.#state === "connected" || this.#state === "reconnecting" || this.#state === "disconnecting" ? this.#own : undefined;
  }

  /** The other connections of the session, by id (as far as this client was told). */
  get connections(): ReadonlyMap<string, Connection> {
    return this.#peers;
  }

  get state(): SessionState {
    return this.#state;
  }

  isConnected(): boolean {
    return this.#state === "connected";
  }

  // ---------------------------------------------------------------- the API

  /**
   * Joins the session with `token`. The outcome goes to `completionHandler`
   * (an OTError, or nothing on success) or, without one, to the Promise
   * returned. `sessionConnected` comes first, then the completion, then a
   * `connectionCreated` for each connection already there.
   */
  connect(token: string, completionHandler?: CompletionHandler): Promise<void> | undefined {
    const [promise, done] = this.#completion(completionHandler);
    const bad = checkToken(token);
    if (bad) {
      done(bad);
      return promise;
    }
    if (this.#state !== "new" && this.#state !== "disconnected") {
      done(otError("IllegalState", `connect called while the session is ${this.#state}`));
      return promise;
    }
    const epoch = ++this.#epoch;
    this.#state = "connecting";
    this.#outbox.restart();
    this.#lastEventSeq = 0;
    this.#peers.clear();
    this.#connectDone = done;
    const first = connectFrame(this.apiKey, this.sessionId, token, this.#opts.connectionEventsSuppressed === true);
    void this.#run(epoch, first).catch((e) => {
      this.#log("error", `session ${this.sessionId}: internal error: ${e instanceof Error ? e.stack : e}`);
      this.#linkDown(epoch, { kind: "failed", error: otError("InternalError", String(e)), reason: "networkDisconnected" });
    });
    return promise;
  }

  /**
   * Leaves the session; `sessionDisconnected` (reason "clientDisconnected")
   * follows. Signals not yet answered fail with 1010.
   */
  disconnect(): void {
    switch (this.#state) {
      case "connected":
        this.#state = "disconnecting";
        this.#link?.send({ kind: "disconnect" });
        this.#stop?.();
        return;
      case "connecting":
      case "reconnecting": {
        // Abandon the attempt. A reconnecting connection has no link to say
        // goodbye on: the server ends it when its grace period is over.
        const was = this.#state;
        this.#epoch++;
        this.#attempt?.abort();
        this.#attempt = undefined;
        this.#link?.abort();
        this.#link = undefined;
        this.#wake?.();
        this.#state = "disconnected";
        this.#peers.clear();
        if (was === "connecting") {
          this.#connectDone?.(otError("NotConnected", "disconnect was called before the session was connected"));
          this.#connectDone = undefined;
        }
        this.#failPending(ErrorCode.NotConnected, "the session was disconnected while reconnecting");
        this.#event("sessionDisconnected", { reason: "clientDisconnected" });
        return;
      }
      default:
        return;
    }
  }

  /**
   * Sends a signal: to everyone (the sender included) or to `to`. The
   * outcome goes to `completionHandler` (an OTError, or nothing once the
   * server has routed it) or, without one, to the Promise returned.
   */
  signal(options: SignalOptions, completionHandler?: CompletionHandler): Promise<void> | undefined {
    const [promise, done] = this.#completion(completionHandler);
    const refused = this.#send(options, done);
    if (refused) {
      this.#log("warn", `session ${this.sessionId}: signal refused: ${refused.message} (${refused.code})`);
      done(refused);
    }
    return promise;
  }

  // ---------------------------------------------------------- the internals

  #send(o: SignalOptions, done: Completion): OTError | undefined {
    if (typeof o !== "object" || o === null) return otError("NullOrInvalidParameter", "signal needs an options object");
    const type = o.type ?? "";
    const data = o.data ?? "";
    if (typeof type !== "string") return otError("NullOrInvalidParameter", "the signal type is not a string");
    if (typeof data !== "string") return otError("NullOrInvalidParameter", "the signal data is not a string");
    let to: string[] | undefined;
    if (o.to !== undefined && o.to !== null) {
      const list = Array.isArray(o.to) ? o.to : [o.to];
      to = [];
      for (const t of list) {
        const id = t instanceof Connection ? t.connectionId : typeof t === "string" ? t : (t as any)?.connectionId;
        if (typeof id !== "string") return otError("NullOrInvalidParameter", "a signal target is neither a Connection nor a connection id");
        to.push(id);
      }
      // No target at all means the whole session, as the C library's list call has it.
      if (to.length === 0) to = undefined;
    }
    const retry = o.retryAfterReconnect ?? true;
    if (typeof retry !== "boolean") return otError("NullOrInvalidParameter", "retryAfterReconnect is not a boolean");
    const bad = checkSignal(type, data, to);
    if (bad) return bad;
    const bytes = utf8Length(data);
    switch (this.#state) {
      case "connected": {
        const link = this.#link;
        if (!link) return otError("NotConnected", "cannot send a signal: no link");
        const p = this.#outbox.push(type, data, bytes, to, done);
        if (p instanceof OTError) return p;
        // Sent now unless the window is full (then as answers make room).
        // If the link just died the signal stays in the outbox and is sent
        // again after the resume (or failed if the session ends).
        this.#outbox.sendReady((f) => link.sendText(f));
        return undefined;
      }
      case "reconnecting": {
        if (!retry) {
          return otError("NotConnected", "cannot send a signal: the session is reconnecting and retryAfterReconnect is false");
        }
        const p = this.#outbox.push(type, data, bytes, to, done);
        return p instanceof OTError ? p : undefined;
      }
      default:
        return otError("NotConnected", `cannot send a signal: the session is ${this.#state}`);
    }
  }

  /** A completion that reports through the event queue: to `handler`, or to a new Promise. */
  #completion(handler: CompletionHandler | undefined): [Promise<void> | undefined, Completion] {
    if (typeof handler === "function") {
      return [undefined, (e) => this.#enqueue(() => handler(e))];
    }
    let resolve!: () => void;
    let reject!: (e: OTError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return [promise, (e) => this.#enqueue(() => (e ? reject(e) : resolve()))];
  }

  #enqueue(fn: () => void): void {
    this.#queue.push(fn);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#drain());
    }
  }

  #drain(): void {
    // Bounded per turn, so one endless stream of events cannot starve I/O;
    // the rest follows in the next microtask.
    for (let n = 0; n < 10_000 && this.#queue.length > 0; n++) {
      const fn = this.#queue.shift()!;
      try {
        fn();
      } catch (e) {
        this.reportHandlerError("a completion handler threw", e);
      }
    }
    if (this.#queue.length > 0) queueMicrotask(() => this.#drain());
    else this.#scheduled = false;
  }

  /** Queues an event for the application. */
  #event(type: string, fields: object): void {
    this.#enqueue(() => this.dispatch(type, { type, target: this, ...fields }));
  }

  #exception(e: OTError): void {
    this.#event("exception", { code: e.code, name: e.name, message: e.message, title: e.name, error: e });
  }

  /** The life of one connect: open, join, serve; after each lost link resume on a new one. */
  async #run(epoch: number, connect: ClientMessage): Promise<void> {
    let factory: SocketFactory;
    try {
      factory = await socketFactory(this.#opts.WebSocket);
    } catch (e) {
      return this.#connectFailed(epoch, e instanceof OTError ? e : otError("ConnectionFailed", String(e)));
    }
    if (epoch !== this.#epoch) return;
    const first = await this.#firstContact(factory, connect);
    if (epoch !== this.#epoch) {
      if ("link" in first) first.link.close();
      return;
    }
    if ("unreachable" in first) return this.#connectFailed(epoch, first.unreachable);
    const { link, msg } = first;
    if (msg.kind !== "connected") {
      link.close();
      const e =
        msg.kind === "error"
          ? new OTError(msg.code, msg.message)
          : otError("ProtocolError", `expected a connected frame, got ${msg.kind}`);
      return this.#connectFailed(epoch, e);
    }
    const ticket: Ticket = { connectionId: msg.connection.id, secret: msg.resume_secret };
    const pol = policy(this.#opts.reconnectionWindowMs, msg.ping_interval_ms, msg.reconnect_grace_ms);
    this.#linkUp(link, msg);
    let current = link;
    for (;;) {
      const end = await this.#serve(epoch, current, pol);
      if (end.kind !== "lost" || pol.windowMs <= 0) {
        current.close();
        return this.#linkDown(epoch, end.kind === "lost" ? { kind: "failed", error: end.error, reason: "networkDisconnected" } : end);
      }
      current.abort();
      if (!this.#reconnectionStarted(epoch, end.error)) return;
      const r = await this.#resume(epoch, factory, ticket, pol);
      if ("end" in r) return this.#linkDown(epoch, r.end);
      current = r.link;
    }
  }

  /** Opens a link to `url`, sends `first` and waits for the answer, all within `limitMs`. */
  async #contact(factory: SocketFactory, url: string, first: ClientMessage, what: string, limitMs: number): Promise<Contact> {
    let link: Link;
    try {
      link = new Link(factory, url);
    } catch (e) {
      return { unreachable: otError("ConnectionFailed", `cannot open ${url}: ${(e as Error)?.message ?? e}`) };
    }
    this.#attempt = link;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stage = "waiting for the WebSocket to open";
    const late = new Promise<"late">((res) => (timer = setTimeout(() => res("late"), Math.max(1, limitMs))));
    try {
      const opened = await Promise.race([link.opened().then(() => "open" as const, (e: OTError) => e), late]);
      if (opened === "late") {
        link.abort();
        return { unreachable: otError("TimedOut", `timed out after ${limitMs} ms ${stage} at ${url}`) };
      }
      if (opened instanceof OTError) {
        link.abort();
        return { unreachable: opened };
      }
      stage = `waiting for the server at ${url} to answer ${what}`;
      link.send(first);
      const answer = await Promise.race([firstFrame(link), late]);
      if (answer === "late") {
        link.abort();
        return { unreachable: otError("TimedOut", `timed out after ${limitMs} ms ${stage}`) };
      }
      if (isEnd(answer)) {
        link.abort();
        const e =
          answer.kind === "malformed"
            ? otError("ProtocolError", answer.message)
            : answer.kind === "failed"
              ? otError("ConnectionFailed", answer.message)
              : otError("ConnectionFailed", `the server closed the link before answering ${what}`);
        return { unreachable: e };
      }
      return { link, msg: answer };
    } finally {
      clearTimeout(timer);
      if (this.#attempt === link) this.#attempt = undefined;
    }
  }

  /** The first connect: each URL in order until a server answers (an answer, even a refusal, ends the walk). */
  async #firstContact(factory: SocketFactory, connect: ClientMessage): Promise<Contact> {
    const failures: string[] = [];
    let last: OTError | undefined;
    for (let i = 0; i < this.#urls.length; i++) {
      const epoch = this.#epoch;
      const r = await this.#contact(factory, this.#urls[i]!, connect, "connect", DEFAULT_CONNECT_TIMEOUT_MS);
      if ("link" in r || epoch !== this.#epoch) {
        this.#route = i;
        return r;
      }
      last = r.unreachable;
      failures.push(`${this.#urls[i]}: ${last.message}`);
      if (i + 1 < this.#urls.length) this.#log("warn", `session ${this.sessionId}: ${failures[failures.length - 1]}; trying the next one`);
    }
    if (failures.length <= 1 || !last) return { unreachable: last ?? otError("NullOrInvalidParameter", "no server URL") };
    return { unreachable: new OTError(last.code, `none of the ${failures.length} server URLs could be reached: ${failures.join("; ")}`) };
  }

  #connectFailed(epoch: number, e: OTError): void {
    if (epoch !== this.#epoch) return;
    this.#log("error", `session ${this.sessionId}: connect failed: ${e.message} (${e.code})`);
    this.#state = "disconnected";
    this.#exception(e);
    this.#connectDone?.(e);
    this.#connectDone = undefined;
  }

  /** The server accepted `connect`. */
  #linkUp(link: Link, msg: Extract<ServerMessage, { kind: "connected" }>): void {
    this.#link = link;
    this.#state = "connected";
    this.#lastEventSeq = msg.last_seq;
    this.#own = Connection.fromInfo(msg.connection);
    this.#peers.clear();
    const others = msg.connections.filter((c) => c.id !== msg.connection.id).map((c) => Connection.fromInfo(c));
    for (const c of others) this.#peers.set(c.connectionId, c);
    this.#log("info", `session ${this.sessionId}: connected as ${msg.connection.id} with ${others.length} other connection(s)`);
    this.#event("sessionConnected", { connections: others });
    this.#connectDone?.(undefined);
    this.#connectDone = undefined;
    for (const c of others) this.#event("connectionCreated", { connection: c, connections: [c] });
  }

  /** Serves a joined link until it ends: frames, acks, pings, the dead-link check, a requested disconnect. */
  #serve(epoch: number, link: Link, pol: Policy): Promise<End> {
    return new Promise<End>((resolve) => {
      let received = this.#lastEventSeq;
      let acked = received;
      let lastRx = Date.now();
      let closingBy: number | undefined;
      let pingId = 0;
      let done = false;
      const timers: Array<ReturnType<typeof setInterval>> = [];
      const finish = (end: End) => {
        if (done) return;
        done = true;
        for (const t of timers) clearInterval(t);
        if (this.#stop === stop) this.#stop = undefined;
        link.detach();
        resolve(end);
      };
      const stop = () => {
        closingBy ??= Date.now() + DISCONNECT_WAIT_MS;
      };
      this.#stop = stop;
      if (this.#state === "disconnecting") stop();
      const ack = () => {
        if (received > acked) {
          link.send({ kind: "ack", seq: received });
          acked = received;
        }
      };
      timers.push(setInterval(ack, ACK_INTERVAL_MS));
      timers.push(
        setInterval(() => {
          if (Date.now() - lastRx >= pol.pingEveryMs) link.send({ kind: "ping", id: ++pingId });
        }, pol.pingEveryMs),
      );
      timers.push(
        setInterval(
          () => {
            const now = Date.now();
            if (closingBy !== undefined && now >= closingBy) return finish({ kind: "clean", reason: "clientDisconnected" });
            if (now - lastRx >= pol.idleMs) {
              if (closingBy !== undefined || this.#state === "disconnecting") return finish({ kind: "clean", reason: "clientDisconnected" });
              finish({ kind: "lost", error: otError("ConnectionDropped", `no frame from the server for ${pol.idleMs} ms`) });
            }
          },
          Math.max(10, Math.min(pol.idleMs / 4, 250)),
        ),
      );
      link.attach({
        frame: (m) => {
          if (done) return;
          lastRx = Date.now();
          const r = this.#handle(epoch, m, link);
          if (typeof r !== "number") return finish(r);
          received = r;
          if (received >= acked + ACK_EVERY_EVENTS) ack();
        },
        end: (e) => {
          if (closingBy !== undefined || this.#state === "disconnecting") return finish({ kind: "clean", reason: "clientDisconnected" });
          if (e.kind === "malformed") return finish({ kind: "failed", error: otError("ProtocolError", e.message), reason: "networkDisconnected" });
          const why = e.kind === "failed" ? e.message : "the server closed the link without a goodbye";
          finish({ kind: "lost", error: otError("ConnectionDropped", why) });
        },
      });
    });
  }

  /** Who sent a signal: ourselves, a known peer, or one we were not told about. */
  #sender(id: string): Connection {
    if (this.#own?.connectionId === id) return this.#own;
    return this.#peers.get(id) ?? new Connection(id, 0, "");
  }

  /** An answer made room on the wire: send what the outbox's window held back, unless leaving (nothing may follow `disconnect`; what is left fails when the link ends). */
  #sendWaiting(link: Link): void {
    if (this.#state === "connected") this.#outbox.sendReady((f) => link.sendText(f));
  }

  /** Handles one frame of a joined link: the highest event seq handled, or how the link ends. */
  #handle(epoch: number, m: ServerMessage, link: Link): number | End {
    if (epoch !== this.#epoch) return { kind: "stale" };
    const seq = eventSeq(m);
    if (seq !== undefined) {
      // Already handled before a resume: never deliver twice.
      if (seq <= this.#lastEventSeq) return this.#lastEventSeq;
      this.#lastEventSeq = seq;
    }
    switch (m.kind) {
      case "signal": {
        const from = m.from === null ? null : this.#sender(m.from);
        const type = m.type ? `signal:${m.type}` : "signal";
        const fields = { data: m.data, from, signalType: m.type };
        if (m.type) this.#event(type, fields);
        this.#enqueue(() => this.dispatch("signal", { type, target: this, ...fields }));
        break;
      }
      case "connection_created":
        if (m.connection.id !== this.#own?.connectionId) {
          const c = Connection.fromInfo(m.connection);
          this.#peers.set(c.connectionId, c);
          this.#event("connectionCreated", { connection: c, connections: [c] });
        }
        break;
      case "connections":
        // The rest of a participant list too long for `connected`.
        for (const info of m.connections) {
          if (this.#peers.has(info.id) || info.id === this.#own?.connectionId) continue;
          const c = Connection.fromInfo(info);
          this.#peers.set(c.connectionId, c);
          this.#event("connectionCreated", { connection: c, connections: [c] });
        }
        break;
      case "connection_destroyed": {
        const c = this.#peers.get(m.connection_id) ?? new Connection(m.connection_id, 0, "");
        this.#peers.delete(m.connection_id);
        this.#event("connectionDestroyed", { connection: c, connections: [c], reason: reasonName(m.reason) });
        break;
      }
      case "signal_ack": {
        // One seq, or (ack runs) every pending one of first..seq.
        const done = m.first === undefined ? [this.#outbox.settle(m.seq)] : this.#outbox.settleRun(m.first, m.seq);
        this.#sendWaiting(link);
        for (const p of done) p?.completion?.(undefined);
        break;
      }
      case "signal_error": {
        this.#log("warn", `session ${this.sessionId}: the server refused signal #${m.seq}: ${m.message} (${m.code})`);
        const p = this.#outbox.settle(m.seq);
        this.#sendWaiting(link);
        p?.completion?.(new OTError(m.code, m.message));
        break;
      }
      case "ping":
        link.send({ kind: "pong", id: m.id });
        break;
      case "pong":
      case "issue_reported":
      case "issue_refused":
        break;
      case "disconnected":
        this.#log("info", `session ${this.sessionId}: the server ended the connection: ${m.reason} ${m.message}`);
        return endedByServer(m.reason, m.message);
      case "error":
        return { kind: "failed", error: new OTError(m.code, m.message), reason: "networkDisconnected" };
      case "connected":
      case "resumed":
        return { kind: "failed", error: otError("ProtocolError", `unexpected ${m.kind} frame on an established link`), reason: "networkDisconnected" };
    }
    return this.#lastEventSeq;
  }

  /** The link of a connected session broke: go reconnecting. False if the session moved on. */
  #reconnectionStarted(epoch: number, why: OTError): boolean {
    if (epoch !== this.#epoch || this.#state !== "connected") return false;
    this.#link = undefined;
    this.#state = "reconnecting";
    this.#log("warn", `session ${this.sessionId}: link lost (${why.message}); reconnecting with ${this.#outbox.size} signal(s) unconfirmed`);
    this.#event("sessionReconnecting", {});
    return true;
  }

  #stillReconnecting(epoch: number): boolean {
    return epoch === this.#epoch && this.#state === "reconnecting";
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, Math.max(0, ms));
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** Resume attempts with backoff until the server answers or the window is over. */
  async #resume(epoch: number, factory: SocketFactory, ticket: Ticket, pol: Policy): Promise<{ link: Link } | { end: End }> {
    const deadline = Date.now() + pol.windowMs;
    const backoff = new Backoff(pol);
    let lastProblem = "no attempt finished";
    for (let attempt = 1; ; attempt++) {
      const wake = Date.now() + backoff.nextDelay();
      if (wake >= deadline) break;
      await this.#sleep(wake - Date.now());
      if (!this.#stillReconnecting(epoch)) return { end: { kind: "stale" } };
      const msg: ClientMessage = {
        kind: "resume",
        version: PROTOCOL_VERSION,
        api_key: this.apiKey,
        session_id: this.sessionId,
        connection_id: ticket.connectionId,
        resume_secret: ticket.secret,
        last_seq: this.#lastEventSeq,
        ack_runs: true,
      };
      const limit = Math.max(1, Math.min(attemptTimeout(pol), deadline - Date.now()));
      const i = (this.#route + attempt - 1) % this.#urls.length;
      const url = this.#urls[i]!;
      this.#log("info", `session ${this.sessionId}: reconnection attempt ${attempt}: resuming on ${url}`);
      const r = await this.#contact(factory, url, msg, "resume", limit);
      if (!this.#stillReconnecting(epoch)) {
        if ("link" in r) r.link.close();
        return { end: { kind: "stale" } };
      }
      if ("unreachable" in r) {
        lastProblem = `attempt ${attempt}: ${r.unreachable.message}`;
        continue;
      }
      const answer = r.msg;
      switch (answer.kind) {
        case "resumed":
          this.#resumed(r.link, answer.last_client_seq);
          this.#route = i;
          return { link: r.link };
        case "error":
          r.link.close();
          // The server could not attach this link but still holds the connection: try again.
          if (answer.code === ErrorCode.ConnectionFailed) {
            lastProblem = `attempt ${attempt}: ${answer.message}`;
            continue;
          }
          return {
            end: {
              kind: "failed",
              error: otError(
                "ConnectionDropped",
                `the connection was lost and the server refused to resume it: ${answer.message} (error ${answer.code})`,
              ),
              reason: "networkDisconnected",
            },
          };
        case "disconnected":
          r.link.close();
          return { end: endedByServer(answer.reason, answer.message) };
        default:
          r.link.close();
          return {
            end: { kind: "failed", error: otError("ProtocolError", `expected a resumed frame, got ${answer.kind}`), reason: "networkDisconnected" },
          };
      }
    }
    return {
      end: {
        kind: "failed",
        error: otError("ConnectionDropped", `the connection was lost and could not be resumed within ${pol.windowMs} ms (${lastProblem})`),
        reason: "networkDisconnected",
      },
    };
  }

  /** The server resumed the connection on `link`: send every unconfirmed signal again, in order (what the window holds back follows as answers come). */
  #resumed(link: Link, lastClientSeq: number): void {
    this.#outbox.relink();
    const waiting = this.#outbox.size;
    const resent = this.#outbox.sendReady((f) => link.sendText(f));
    this.#link = link;
    this.#state = "connected";
    this.#log(
      "info",
      `session ${this.sessionId}: connection resumed; the server had processed signals up to #${lastClientSeq}; ${resent} of ${waiting} waiting signal(s) sent again`,
    );
    this.#event("sessionReconnected", {});
  }

  /** Fails every signal still waiting: each completion gets `code`, and one exception says how many. */
  #failPending(code: number, why: string): void {
    const pending: Pending[] = this.#outbox.drain();
    if (pending.length === 0) return;
    for (const p of pending) {
      this.#log("warn", `session ${this.sessionId}: signal #${p.seq} (type ${JSON.stringify(p.type)}, ${p.dataBytes} bytes) failed with ${code}: ${why}`);
      p.completion?.(new OTError(code, why));
    }
    const first = pending[0]!.seq;
    const last = pending[pending.length - 1]!.seq;
    const message = `${pending.length} signal(s) accepted but not confirmed by the server were not sent (client seqs ${first}..${last}): ${why}`;
    this.#log("error", `session ${this.sessionId}: ${message}`);
    this.#exception(new OTError(code, message));
  }

  /** The connection is over: settle everything and tell the application. */
  #linkDown(epoch: number, end: End): void {
    if (epoch !== this.#epoch || end.kind === "stale") return;
    this.#state = "disconnected";
    this.#link?.close();
    this.#link = undefined;
    this.#peers.clear();
    this.#stop = undefined;
    if (end.kind === "clean") {
      this.#log("info", `session ${this.sessionId}: disconnected (${end.reason})`);
      this.#failPending(ErrorCode.NotConnected, "the session was disconnected");
      this.#event("sessionDisconnected", { reason: end.reason });
      return;
    }
    const error = end.error;
    this.#log("error", `session ${this.sessionId}: ${error.message} (${error.code})`);
    this.#exception(error);
    this.#failPending(ErrorCode.ConnectionDropped, error.message);
    this.#event("sessionDisconnected", { reason: end.kind === "failed" ? end.reason : "networkDisconnected" });
  }
}

/** What a `disconnected` frame means for the application (as the C library maps it). */
function endedByServer(reason: DisconnectReasonWire, message: string): End {
  const name = reasonName(reason);
  let code: number;
  switch (reason) {
    case "client_disconnected":
    case "force_disconnected":
      return { kind: "clean", reason: name };
    case "protocol_violation":
      code = ErrorCode.ProtocolError;
      break;
    case "slow_consumer":
    case "replay_overflow":
      code = ErrorCode.BufferFull;
      break;
    default:
      code = ErrorCode.ConnectionDropped;
  }
  return { kind: "failed", error: new OTError(code, `the server ended the connection (${reason}): ${message}`), reason: name };
}

function isEnd(x: ServerMessage | LinkEnd): x is LinkEnd {
  return x.kind === "closed" || x.kind === "failed" || x.kind === "malformed";
}

/** The first frame (or the end) of a link; what follows stays buffered in it. */
function firstFrame(link: Link): Promise<ServerMessage | LinkEnd> {
  return new Promise((resolve) => {
    link.attach({
      frame: (m) => {
        link.detach();
        resolve(m);
      },
      end: (e) => {
        link.detach();
        resolve(e);
      },
    });
  });
}
