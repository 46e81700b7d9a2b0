// One load generator for two servers: otc-server and a Socket.IO 4 server
// (sio-server.mjs). The same scenarios and the same measurement code run
// against both, in the same process and the same run; only the two small
// protocol adapters below (OtcClient, SioClient) differ. Both speak raw
// WebSocket through `ws`, without compression:
//
//   otc-server  docs/protocol.md: `connect` with a token -> `connected`;
//               `signal` frames numbered 1, 2, 3 ... each answered by
//               `signal_ack`; incoming `signal` events carry their event seq
//               and are acknowledged with `ack` every 64 events, as libopentok
//               does; `ping` answered with `pong`; `disconnect` to leave.
//   Socket.IO   Engine.IO v4 / Socket.IO v5 packets over
//               /socket.io/?EIO=4&transport=websocket: open `0{...}`,
//               connect `40{"room":...}` -> `40{"sid":...}`; events
//               `42<ackId>["direct"|"broadcast",{...}]` emitted with an ack
//               callback, answered `43<ackId>[]`; incoming `42["signal",{...}]`;
//               ping `2` answered with pong `3`; `41` to leave.
//
// Every message on both sides asks for the server's answer (signal_ack / the
// ack callback) and every answer is checked; every receiver checks that each
// message arrived exactly once and in order. Flow control is the same for
// both: a sender keeps at most WINDOW messages in flight, where a message
// leaves the window when every receiver has it (end to end, measured by the
// generator itself, not by either server's answer).
//
//   node loadgen.mjs --otc-port P --otc-pid PID --otc-bin PATH \
//                    [--otc-args 'SERVE FLAGS'] --sio-port P --sio-pid PID [--quick | --smoke] [--runs K]
//                    [--only latency,throughput,fanout,idle] [--out FILE]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import os from "node:os";
import WebSocket from "ws";

// --- arguments ----------------------------------------------------------------

const opts = {
    otcPort: 0,
    otcPid: 0,
    otcBin: "",
    otcArgs: [],
    sioPort: 0,
    sioPid: 0,
    quick: false,
    smoke: false,
    runs: 0,
    only: [],
    out: "target/bench/socketio.json",
};
{
    const a = process.argv.slice(2);
    for (let i = 0; i < a.length; i++) {
        const v = () => {
            if (i + 1 >= a.length) usage(`${a[i]} needs a value`);
            return a[++i];
        };
        switch (a[i]) {
            case "--otc-port": opts.otcPort = Number(v()); break;
            case "--otc-pid": opts.otcPid = Number(v()); break;
            case "--otc-bin": opts.otcBin = v(); break;
            case "--otc-args": opts.otcArgs = v().split(" ").filter(Boolean); break;
            case "--sio-port": opts.sioPort = Number(v()); break;
            case "--sio-pid": opts.sioPid = Number(v()); break;
            case "--quick": opts.quick = true; break;
            case "--smoke": opts.smoke = true; break;
            case "--runs": opts.runs = Number(v()); break;
            case "--only": opts.only = v().split(",").filter(Boolean); break;
            case "--out": opts.out = v(); break;
            default: usage(`unknown argument ${a[i]}`);
        }
    }
    if (!opts.otcPort || !opts.otcPid || !opts.otcBin || !opts.sioPort || !opts.sioPid) {
        usage("--otc-port, --otc-pid, --otc-bin, --sio-port and --sio-pid are required");
    }
    if (!opts.runs) opts.runs = opts.quick || opts.smoke ? 1 : 3;
    for (const s of opts.only) {
        if (!["latency", "throughput", "fanout", "idle"].includes(s)) usage(`unknown scenario ${s}`);
    }
}
function usage(msg) {
    console.error(`loadgen: ${msg}`);
    console.error("usage: node loadgen.mjs --otc-port P --otc-pid PID --otc-bin PATH [--otc-args 'FLAGS'] --sio-port P --sio-pid PID [--quick|--smoke] [--runs K] [--only LIST] [--out FILE]");
    process.exit(2);
}

// Counts per mode. Every wait below is bounded as well (TIMEOUT_MS).
const MODE = opts.smoke ? "smoke" : opts.quick ? "quick" : "full";
const PLAN = {
    full: {
        latency: { samples: 2000, rate: 500, warmup: 200 },
        throughput: { seconds: 2, window: 2048 },
        fanout: [{ n: 100, signals: 3000 }, { n: 1000, signals: 400 }],
        fanoutWindow: 8,
        idle: 5000,
    },
    quick: {
        latency: { samples: 500, rate: 500, warmup: 100 },
        throughput: { seconds: 0.5, window: 2048 },
        fanout: [{ n: 100, signals: 1000 }, { n: 500, signals: 200 }],
        fanoutWindow: 8,
        idle: 1000,
    },
    smoke: {
        latency: { samples: 50, rate: 500, warmup: 10 },
        throughput: { count: 3000, window: 256 },
        fanout: [{ n: 20, signals: 100 }],
        fanoutWindow: 8,
        idle: 100,
    },
}[MODE];
const TIMEOUT_MS = 30_000; // any one wait
const OPEN_BATCH = 200; // connections opened at once (otc-server allows 512 pending per IP)
const ROOM_SIZE = 1000; // idle connections per session / room
const ACK_EVERY = 64; // otc receivers acknowledge events like libopentok

// --- small tools ----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
let linkFailure = null; // first unexpected close or refusal, fails the scenario

async function until(cond, ms, what) {
    const end = now() + ms;
    while (!cond()) {
        if (linkFailure) throw new Error(linkFailure);
        if (now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`);
        await sleep(1);
    }
    if (linkFailure) throw new Error(linkFailure);
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
/** utime + stime of a process, in microseconds. */
function cpuUs(pid) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}
/** Resident memory of a process, in bytes. */
function rssBytes(pid) {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!m) throw new Error(`no VmRSS for pid ${pid}`);
    return Number(m[1]) * 1024;
}
/** This process's CPU time, in microseconds. */
function selfCpuUs() {
    const u = process.cpuUsage();
    return u.user + u.system;
}

/** Signal data of `size` bytes whose first ten digits are its index. */
const pads = new Map();
function payload(index, size) {
    let pad = pads.get(size);
    if (pad === undefined) pads.set(size, (pad = "x".repeat(size - 10)));
    return String(index).padStart(10, "0") + pad;
}
const DATA_KEY = Buffer.from('"data":"');
/** The index at the start of a frame's data string, or -1. */
function indexIn(buf) {
    const p = buf.indexOf(DATA_KEY);
    if (p < 0 || p + 18 > buf.length) return -1;
    let v = 0;
    for (let i = p + 8; i < p + 18; i++) {
        const c = buf[i] - 48;
        if (c < 0 || c > 9) return -1;
        v = v * 10 + c;
    }
    return v;
}
/** The unsigned integer written at `at`, or -1. */
function intAt(buf, at) {
    let v = -1;
    for (let i = at; i < buf.length; i++) {
        const c = buf[i] - 48;
        if (c < 0 || c > 9) break;
        v = (v < 0 ? 0 : v * 10) + c;
    }
    return v;
}
const startsWith = (buf, prefix) =>
    buf.length >= prefix.length && buf.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

// The generator's own costs, the same for both servers: an all-zero masking
// key (allowed by RFC 6455; ws then skips the XOR pass, the servers still
// unmask) and no UTF-8 validation of what the servers send.
const WS_OPTIONS = {
    perMessageDeflate: false,
    maxPayload: 1 << 20,
    handshakeTimeout: 10_000,
    skipUTF8Validation: true,
    generateMask: (mask) => mask.fill(0),
};

// --- the two protocol adapters ------------------------------------------------------
//
// Frames are written as template strings, byte for byte what JSON.stringify
// would write: the data (digits and "x", see payload()) and the ids need no
// escaping, and JSON.stringify of 8 KB strings was the generator's largest
// cost.
//
// Each: static open(room) resolves once joined, with `id` (what a direct
// message is addressed to); direct(to, data) / broadcast(data) send one
// message asking for the server's answer (counted in `answered`, checked in
// order); `onSignal(index)` is called for every message received; close()
// leaves politely. Both parse the hot frames (an incoming message, the
// server's answer) with the same two byte searches and fall back to
// JSON.parse for everything else.

const live = new Set(); // every open client, closed on failure

class Client {
    constructor(system) {
        this.system = system;
        this.ws = null;
        this.id = "";
        this.sent = 0;
        this.answered = 0;
        this.received = 0;
        this.expectNext = 0; // the index of the next message, for the exactly-once check
        this.onSignal = null;
        this.leaving = false;
    }
    /** Called by the adapters for every incoming message. */
    got(index) {
        if (index !== this.expectNext) {
            fail(`${this.system} client ${this.id}: got message ${index}, expected ${this.expectNext} (lost, duplicated or reordered)`);
            return;
        }
        this.expectNext++;
        this.received++;
        if (this.onSignal) this.onSignal(index);
    }
    /** Runs `fn` (which sends) with the socket corked, flushed on the next tick. */
    batch(fn) {
        const s = this.ws._socket;
        s.cork();
        try {
            fn();
        } finally {
            process.nextTick(() => s.uncork());
        }
    }
    attach(ws, resolve, reject) {
        this.ws = ws;
        let joined = false;
        const timer = setTimeout(() => {
            reject(new Error(`${this.system}: not joined within 10 s`));
            ws.terminate();
        }, 10_000);
        this.joined = (id) => {
            joined = true;
            clearTimeout(timer);
            this.id = id;
            live.add(this);
            resolve(this);
        };
        this.refused = (why) => {
            clearTimeout(timer);
            reject(new Error(`${this.system}: ${why}`));
            ws.terminate();
        };
        ws.on("message", (buf) => this.handle(buf));
        ws.on("error", (e) => {
            if (!joined) this.refused(`connect: ${e.message}`);
            else if (!this.leaving) fail(`${this.system} client ${this.id}: ${e.message}`);
        });
        ws.on("close", (code) => {
            live.delete(this);
            if (!joined) this.refused(`closed (${code}) before joining`);
            else if (!this.leaving) fail(`${this.system} client ${this.id}: link closed (${code})`);
        });
    }
    close() {
        this.leaving = true;
        live.delete(this);
        if (this.ws.readyState === WebSocket.OPEN) {
            this.ws.send(this.byeFrame());
            this.ws.close(1000);
        }
    }
}

const OTC_SIGNAL = Buffer.from('{"kind":"signal",');
const OTC_ACK = Buffer.from('{"kind":"signal_ack","seq":');
const SEQ_KEY = Buffer.from('"seq":');

class OtcClient extends Client {
    /** room: { sessionId, token, port? } */
    static open(room) {
        const c = new OtcClient("ours");
        return new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${room.port ?? opts.otcPort}/v1/ws`, "otc-signal.v1", WS_OPTIONS);
            c.attach(ws, resolve, reject);
            c.lastEvent = 0;
            c.ackedEvent = 0;
            ws.on("open", () =>
                ws.send(JSON.stringify({
                    kind: "connect",
                    version: 1,
                    api_key: OTC_API_KEY,
                    session_id: room.sessionId,
                    token: room.token,
                    suppress_connection_events: true,
                })),
            );
        });
    }
    handle(buf) {
        if (startsWith(buf, OTC_SIGNAL)) {
            const p = buf.indexOf(SEQ_KEY);
            const seq = p < 0 ? -1 : intAt(buf, p + SEQ_KEY.length);
            if (seq <= this.lastEvent) return fail(`ours: event seq ${seq} after ${this.lastEvent}`);
            this.lastEvent = seq;
            this.got(indexIn(buf));
            if (this.lastEvent - this.ackedEvent >= ACK_EVERY) {
                this.ackedEvent = this.lastEvent;
                this.ws.send(JSON.stringify({ kind: "ack", seq: this.ackedEvent }));
            }
            return;
        }
        if (startsWith(buf, OTC_ACK)) {
            const seq = intAt(buf, OTC_ACK.length);
            if (seq !== this.answered + 1) return fail(`ours: signal_ack ${seq}, expected ${this.answered + 1}`);
            this.answered++;
            return;
        }
        const m = JSON.parse(buf.toString());
        switch (m.kind) {
            case "connected": return this.joined(m.connection.id);
            case "ping": return this.ws.send(JSON.stringify({ kind: "pong", id: m.id }));
            case "signal_ack": // not in the writer's usual field order: the slow path
                if (m.seq !== this.answered + 1) return fail(`ours: signal_ack ${m.seq}, expected ${this.answered + 1}`);
                this.answered++;
                return;
            case "signal":
                this.lastEvent = m.seq;
                return this.got(Number(m.data.slice(0, 10)));
            case "error": return this.refused(`refused: ${m.code} ${m.message}`);
            case "signal_error": return fail(`ours: signal ${m.seq} refused: ${m.code} ${m.message}`);
            case "disconnected": return fail(`ours: disconnected: ${m.reason} ${m.message}`);
            default: return; // pong, connections, ...
        }
    }
    direct(to, data) {
        this.ws.send(`{"kind":"signal","seq":${++this.sent},"type":"bench","data":"${data}","to":["${to}"]}`);
    }
    broadcast(data) {
        this.ws.send(`{"kind":"signal","seq":${++this.sent},"type":"bench","data":"${data}"}`);
    }
    byeFrame() {
        return '{"kind":"disconnect"}';
    }
}

const SIO_EVENT = Buffer.from('42["signal",');
const SIO_ACK = Buffer.from("43");

class SioClient extends Client {
    /** room: { name, port? } */
    static open(room) {
        const c = new SioClient("socket.io");
        return new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${room.port ?? opts.sioPort}/socket.io/?EIO=4&transport=websocket`, WS_OPTIONS);
            c.attach(ws, resolve, reject);
            c.room = room.name;
        });
    }
    handle(buf) {
        if (startsWith(buf, SIO_EVENT)) return this.got(indexIn(buf));
        if (startsWith(buf, SIO_ACK)) {
            // Ack ids are the send counts from 0, so the n-th answer is id n-1.
            const id = intAt(buf, 2);
            if (id !== this.answered) return fail(`socket.io: ack ${id}, expected ${this.answered}`);
            this.answered++;
            return;
        }
        const s = buf.toString();
        if (s === "2") return this.ws.send("3"); // Engine.IO ping -> pong
        if (s[0] === "0") return this.ws.send(`40${JSON.stringify({ room: this.room })}`); // open -> connect
        if (s.startsWith("40")) return this.joined(JSON.parse(s.slice(2)).sid);
        if (s.startsWith("44")) return this.refused(`connect refused: ${s.slice(2)}`);
        if (s.startsWith("42")) {
            const [, m] = JSON.parse(s.slice(2));
            return this.got(Number(m.data.slice(0, 10)));
        }
        if (s === "41" || s === "1") return fail(`socket.io: server disconnected ${this.id}`);
    }
    direct(to, data) {
        this.ws.send(`42${this.sent++}["direct",{"to":"${to}","type":"bench","data":"${data}"}]`);
    }
    broadcast(data) {
        this.ws.send(`42${this.sent++}["broadcast",{"type":"bench","data":"${data}"}]`);
    }
    byeFrame() {
        return "41";
    }
}

// --- rooms: an OpenTok session (id + token from the otc-server CLI) or a name -------

const OTC_API_KEY = "100000"; // the development project of otc-server
const CLI_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTC_")));
function otcCli(...args) {
    const out = execFileSync(opts.otcBin, args, { env: CLI_ENV, timeout: 30_000 }).toString();
    const lines = out.split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.length) throw new Error(`otc-server ${args[0]} printed nothing`);
    return lines[lines.length - 1];
}
let roomCount = 0;
function newRoom(system, port) {
    if (system === "ours") {
        const sessionId = otcCli("create-session");
        return { sessionId, token: otcCli("token", "--session-id", sessionId), port };
    }
    return { name: `room-${process.pid}-${++roomCount}`, port };
}

// Fresh server processes, for the memory figure: a Node process's heap (and
// an allocator's free lists) keep what earlier scenarios grew them to, so
// the growth over N connections depends on the history unless every run
// starts from a new process. Started like the long-lived ones (the same
// otc-server flags, the same sio-server.mjs) and stopped by their PID.
const fresh = new Set();
process.on("exit", () => {
    for (const c of fresh) c.kill("SIGKILL");
});
function startFresh(system) {
    const [cmd, args, re] =
        system === "ours"
            ? [opts.otcBin, ["serve", "--listen", "127.0.0.1:0", ...opts.otcArgs], /listening on http:\/\/127\.0\.0\.1:(\d+)/]
            : [process.execPath, [new URL("./sio-server.mjs", import.meta.url).pathname], /^listening on (\d+)$/m];
    const child = spawn(cmd, args, { env: CLI_ENV, stdio: ["ignore", "pipe", "pipe"] });
    fresh.add(child);
    let log = "";
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`${system}: a fresh server did not start within 10 s: ${log}`)), 10_000);
        const done = (err, port) => {
            clearTimeout(timer);
            if (err) {
                child.kill("SIGKILL");
                return reject(err);
            }
            resolve({
                pid: child.pid,
                port,
                stop: () => new Promise((res) => {
                    const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
                    child.once("exit", () => {
                        clearTimeout(kill);
                        fresh.delete(child);
                        res();
                    });
                    child.kill("SIGTERM");
                }),
            });
        };
        const onData = (d) => {
            log += d;
            const m = re.exec(log);
            if (m) {
                child.stdout.removeListener("data", onData);
                child.stderr.removeListener("data", onData);
                child.stdout.resume();
                child.stderr.resume();
                done(null, Number(m[1]));
            }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.once("exit", (code) => done(new Error(`${system}: a fresh server exited (${code}): ${log}`)));
        child.once("error", (e) => done(new Error(`${system}: cannot start a fresh server: ${e.message}`)));
    });
}
const SYSTEMS = {
    ours: { open: (room) => OtcClient.open(room), pid: () => opts.otcPid },
    "socket.io": { open: (room) => SioClient.open(room), pid: () => opts.sioPid },
};

/** Opens `n` clients into `room`, OPEN_BATCH at a time. */
async function openMany(system, room, n) {
    const out = [];
    for (let i = 0; i < n; i += OPEN_BATCH) {
        const k = Math.min(OPEN_BATCH, n - i);
        out.push(...(await Promise.all(Array.from({ length: k }, () => SYSTEMS[system].open(room)))));
    }
    return out;
}
async function closeAll(clients) {
    for (const c of clients) c.close();
    // Let both sides see the goodbyes before the next measurement starts.
    await until(() => clients.every((c) => c.ws.readyState === WebSocket.CLOSED), 10_000,
        () => `${clients.filter((c) => c.ws.readyState !== WebSocket.CLOSED).length} links to close`);
}

function fail(msg) {
    if (!linkFailure) linkFailure = msg;
}

// --- scenarios --------------------------------------------------------------------------
// Each returns { figure: value } for one system and one run.

function percentile(sorted, p) {
    if (!sorted.length) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** 1->1 latency: paced direct messages, one-way time send -> receive. */
async function latency(system) {
    const { samples, rate, warmup } = PLAN.latency;
    const room = newRoom(system);
    const [a, b] = await openMany(system, room, 2);
    const total = warmup + samples;
    const sentAt = new Float64Array(total);
    const lat = new Float64Array(samples);
    b.onSignal = (i) => {
        if (i >= warmup) lat[i - warmup] = now() - sentAt[i];
    };
    const start = now();
    let i = 0;
    while (i < total) {
        const due = Math.min(total, Math.floor(((now() - start) * rate) / 1000) + 1);
        while (i < due) {
            sentAt[i] = now();
            a.direct(b.id, payload(i, 100));
            i++;
        }
        if (linkFailure) throw new Error(linkFailure);
        if (now() - start > TIMEOUT_MS) throw new Error(`latency: sent only ${i} of ${total} in ${TIMEOUT_MS} ms`);
        await sleep(1);
    }
    await until(() => b.received === total && a.answered === total, TIMEOUT_MS,
        () => `${total} messages (received ${b.received}, answered ${a.answered})`);
    await closeAll([a, b]);
    const sorted = Array.from(lat).sort((x, y) => x - y);
    return { p50: percentile(sorted, 50) * 1000, p99: percentile(sorted, 99) * 1000, count: total };
}

/** 1->1 throughput: direct messages back to back, at most `window` in flight. */
async function throughput(system, size) {
    const { seconds, count, window } = PLAN.throughput;
    const room = newRoom(system);
    const [a, b] = await openMany(system, room, 2);
    const limit = count ?? Infinity; // smoke: a fixed count; otherwise a fixed time
    let stop = false;
    let last = 0;
    const topUp = () =>
        a.batch(() => {
            while (!stop && a.sent < limit && a.sent - b.received < window) a.direct(b.id, payload(a.sent, size));
        });
    b.onSignal = () => {
        last = now();
        // Refill in batches of 64, not after every message.
        if (window - (a.sent - b.received) >= Math.min(64, window / 4)) topUp();
    };
    const cpu0 = cpuUs(SYSTEMS[system].pid()), gen0 = selfCpuUs();
    const first = now();
    topUp();
    if (count === undefined) {
        await sleep(seconds * 1000);
        stop = true;
    }
    await until(() => (stop || a.sent >= limit) && b.received === a.sent && a.answered === a.sent, TIMEOUT_MS,
        () => `all messages (sent ${a.sent}, received ${b.received}, answered ${a.answered})`);
    const cpu1 = cpuUs(SYSTEMS[system].pid()), gen1 = selfCpuUs();
    const elapsed = (last - first) / 1000;
    const n = b.received;
    await closeAll([a, b]);
    return {
        rate: n / elapsed,
        serverCpuPerMsg: (cpu1 - cpu0) / n,
        serverCore: (cpu1 - cpu0) / 1e6 / elapsed,
        genCore: (gen1 - gen0) / 1e6 / elapsed,
        count: n,
    };
}

/** 1->N fan-out: one sender broadcasts into a room of n receivers. */
async function fanout(system, n, signals) {
    const window = PLAN.fanoutWindow;
    const room = newRoom(system);
    const receivers = await openMany(system, room, n);
    const [sender] = await openMany(system, room, 1);
    const sentAt = new Float64Array(signals);
    const have = new Uint32Array(signals);
    const lat = new Float64Array(n * signals);
    let k = 0, complete = 0, last = 0;
    const topUp = () =>
        sender.batch(() => {
            while (sender.sent < signals && sender.sent - complete < window) {
                sentAt[sender.sent] = now();
                sender.broadcast(payload(sender.sent, 100));
            }
        });
    const onSignal = (i) => {
        const t = now();
        lat[k++] = t - sentAt[i];
        if (++have[i] === n) {
            complete++;
            last = t;
            topUp();
        }
    };
    for (const r of receivers) r.onSignal = onSignal;
    const cpu0 = cpuUs(SYSTEMS[system].pid()), gen0 = selfCpuUs();
    const first = now();
    topUp();
    await until(() => complete === signals && sender.answered === signals, TIMEOUT_MS,
        () => `${signals} signals to ${n} (complete ${complete}, answered ${sender.answered}, deliveries ${k})`);
    const cpu1 = cpuUs(SYSTEMS[system].pid()), gen1 = selfCpuUs();
    const elapsed = (last - first) / 1000;
    const deliveries = n * signals;
    // An OpenTok broadcast reaches its sender too (docs/protocol.md); a
    // Socket.IO socket.to(room) does not. Ours thus writes n + 1 frames per
    // signal, and only the n receivers' deliveries are counted.
    const own = system === "ours" ? signals : 0;
    await until(() => sender.received === own, TIMEOUT_MS, () => `the sender's ${own} own copies (got ${sender.received})`);
    if (k !== deliveries || receivers.some((r) => r.received !== signals)) {
        throw new Error(`fan-out: ${k} deliveries, expected ${deliveries}`);
    }
    await closeAll([...receivers, sender]);
    const sorted = Array.from(lat).sort((x, y) => x - y);
    return {
        rate: deliveries / elapsed,
        serverCpuPerDelivery: (cpu1 - cpu0) / deliveries,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        serverCore: (cpu1 - cpu0) / 1e6 / elapsed,
        genCore: (gen1 - gen0) / 1e6 / elapsed,
        count: deliveries,
    };
}

/** Idle connections: server VmRSS growth per joined connection. */
async function idle(system, n) {
    const server = await startFresh(system);
    try {
        return await idleOn(system, n, server);
    } finally {
        await server.stop();
    }
}
async function idleOn(system, n, { pid, port }) {
    const rooms = Array.from({ length: Math.ceil(n / ROOM_SIZE) }, () => newRoom(system, port));
    await sleep(500);
    const rss0 = rssBytes(pid);
    const clients = [];
    let spent = 0;
    const openUpTo = async (m) => {
        const t = now();
        while (clients.length < m) {
            const r = Math.floor(clients.length / ROOM_SIZE);
            const k = Math.min(m - clients.length, (r + 1) * ROOM_SIZE - clients.length);
            clients.push(...(await openMany(system, rooms[r], k)));
        }
        spent += now() - t;
        // Let the server settle (finish handshakes, first timers) before reading.
        await sleep(1000);
        if (linkFailure) throw new Error(linkFailure);
        return rssBytes(pid);
    };
    // The first fifth, then the rest: the growth over the rest is the cost of
    // one more connection once the one-time growth (heap, allocator, maps)
    // is behind.
    const first = Math.ceil(n / 5);
    const rssMid = await openUpTo(first);
    const rss1 = await openUpTo(n);
    await closeAll(clients);
    return {
        perConn: (rss1 - rss0) / n,
        perAdded: (rss1 - rssMid) / (n - first),
        connectRate: n / (spent / 1000),
        count: n,
    };
}

// --- running, reporting ---------------------------------------------------------------

const results = []; // { scenario, figure, unit, better, target, ours: [], "socket.io": [] }
function row(scenario, figure, unit, better, target) {
    let r = results.find((x) => x.scenario === scenario && x.figure === figure);
    if (!r) results.push((r = { scenario, figure, unit, better, target, ours: [], "socket.io": [] }));
    return r;
}
const failures = [];

/** Runs `fn(system)` `opts.runs` times for each system, alternating which goes first. */
async function scenario(name, fn, record) {
    for (let run = 0; run < opts.runs; run++) {
        const order = run % 2 === 0 ? ["ours", "socket.io"] : ["socket.io", "ours"];
        for (const system of order) {
            process.stderr.write(`loadgen: ${name}, ${system}, run ${run + 1}/${opts.runs} ... `);
            const t = now();
            linkFailure = null;
            try {
                const r = await fn(system);
                record(system, r);
                process.stderr.write(`${((now() - t) / 1000).toFixed(1)} s\n`);
            } catch (e) {
                process.stderr.write("FAILED\n");
                failures.push(`${name}, ${system}, run ${run + 1}: ${e.message}`);
                console.error(`loadgen: ${name}, ${system}: ${e.message}`);
                for (const c of [...live]) {
                    c.leaving = true;
                    c.ws.terminate();
                }
                live.clear();
                linkFailure = null;
                await sleep(500);
            }
        }
    }
}

const wants = (s) => !opts.only.length || opts.only.includes(s);
const T2 = ">= 2x better";
const started = now();
const loadBefore = os.loadavg();

// Warm-up, not recorded: a fresh Node process runs its code unoptimized for
// a while (the Socket.IO server, and this generator for each adapter), so
// both servers first relay a few thousand messages of each kind.
if (!opts.smoke) {
    const saved = PLAN.throughput;
    PLAN.throughput = { count: 3000, window: 256 };
    for (const system of ["ours", "socket.io"]) {
        try {
            linkFailure = null;
            await throughput(system, 100);
            await throughput(system, 8192);
            await fanout(system, 20, 200);
        } catch (e) {
            failures.push(`warm-up, ${system}: ${e.message}`);
            console.error(`loadgen: warm-up, ${system}: ${e.message}`);
        }
    }
    PLAN.throughput = saved;
    linkFailure = null;
}

if (wants("idle")) {
    const n = PLAN.idle;
    const s = `idle connections, ${n}`;
    await scenario(s, (sys) => idle(sys, n), (sys, r) => {
        row(s, "server memory per connection (fresh server)", "KB", "lower", T2)[sys].push(r.perConn / 1000);
        row(s, `memory per added connection (${Math.ceil(n / 5)} -> ${n})`, "KB", "lower", "-")[sys].push(r.perAdded / 1000);
        row(s, "connect + join rate", "/s", "higher", "-")[sys].push(r.connectRate);
    });
}
if (wants("latency")) {
    const L = PLAN.latency;
    const s = "latency 1->1, 100 B";
    await scenario(s, latency, (sys, r) => {
        row(s, `p50 (${L.samples} samples at ${L.rate}/s)`, "us", "lower", T2)[sys].push(r.p50);
        row(s, "p99", "us", "lower", T2)[sys].push(r.p99);
    });
}
if (wants("throughput")) {
    for (const size of [100, 8192]) {
        const s = `throughput 1->1, ${size === 100 ? "100 B" : "8 KB"}`;
        await scenario(s, (sys) => throughput(sys, size), (sys, r) => {
            row(s, `messages received (window ${PLAN.throughput.window})`, "/s", "higher", T2)[sys].push(r.rate);
            row(s, "server CPU per message", "us", "lower", "-")[sys].push(r.serverCpuPerMsg);
            row(s, "server CPU (cores)", "", "lower", "-")[sys].push(r.serverCore);
            row(s, "load generator CPU (cores)", "", "-", "-")[sys].push(r.genCore);
        });
    }
}
if (wants("fanout")) {
    for (const { n, signals } of PLAN.fanout) {
        const s = `fan-out 1->${n}`;
        await scenario(s, (sys) => fanout(sys, n, signals), (sys, r) => {
            row(s, `deliveries (${signals} signals, window ${PLAN.fanoutWindow})`, "/s", "higher", T2)[sys].push(r.rate);
            row(s, "server CPU per delivery", "us", "lower", T2)[sys].push(r.serverCpuPerDelivery);
            row(s, "p50 delivery latency", "ms", "lower", T2)[sys].push(r.p50);
            row(s, "p99 delivery latency", "ms", "lower", T2)[sys].push(r.p99);
            row(s, "server CPU (cores)", "", "lower", "-")[sys].push(r.serverCore);
            row(s, "load generator CPU (cores)", "", "-", "-")[sys].push(r.genCore);
        });
    }
}
const wall = (now() - started) / 1000;

function median(v) {
    const s = [...v].sort((x, y) => x - y);
    if (!s.length) return NaN;
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function fmt(v, unit) {
    if (!Number.isFinite(v)) return "-";
    if (unit === "/s") return v >= 1e5 ? `${(v / 1e3).toFixed(0)}k` : v >= 1e4 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
    if (unit === "") return v.toFixed(2);
    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
function cell(v, unit) {
    if (!v.length) return "failed";
    const m = fmt(median(v), unit);
    const u = unit && unit !== "/s" ? ` ${unit}` : unit;
    if (v.length === 1) return `${m}${u}`;
    return `${m}${u} (${fmt(Math.min(...v), unit)}-${fmt(Math.max(...v), unit)})`;
}
const table = [];
table.push("| scenario | figure | ours | socket.io | ratio | target | result |");
table.push("| --- | --- | ---: | ---: | ---: | --- | --- |");
for (const r of results) {
    const o = median(r.ours), s = median(r["socket.io"]);
    r.median = { ours: o, "socket.io": s };
    r.ratio = r.better === "higher" ? o / s : r.better === "lower" ? s / o : NaN;
    r.result = r.target === "-" ? "-" : Number.isFinite(r.ratio) ? (r.ratio >= 2 ? "pass" : "MISS") : "failed";
    const ratio = Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : "-";
    table.push(`| ${r.scenario} | ${r.figure} | ${cell(r.ours, r.unit)} | ${cell(r["socket.io"], r.unit)} | ${ratio} | ${r.target} | ${r.result} |`);
}

if (opts.smoke) {
    // Every scenario completed on both servers: every message arrived exactly
    // once, in order, and every send was answered (checked as they came).
    if (failures.length) {
        console.error(`loadgen --smoke: ${failures.length} failed:\n  ${failures.join("\n  ")}`);
        process.exit(1);
    }
    const n = results.filter((r) => r.ours.length && r["socket.io"].length).length;
    console.log(`loadgen --smoke: pass (${n} figures on both servers, every message exactly once, in order, every send answered; ${wall.toFixed(1)} s)`);
    process.exit(0);
}

console.log(`\nAgainst Socket.IO 4 (${MODE}, ${opts.runs} run${opts.runs > 1 ? "s" : ""} each: median (min-max)); ratio = how many times better ours is; ${wall.toFixed(0)} s`);
console.log(table.join("\n"));
console.log("us = microseconds, KB = 1,000 bytes; CPU in cores = CPU seconds per second of the run.");
mkdirSync(dirname(opts.out), { recursive: true });
writeFileSync(opts.out, JSON.stringify({
    mode: MODE,
    runs: opts.runs,
    wall_seconds: wall,
    load_average_before: loadBefore,
    load_average_after: os.loadavg(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, mem_bytes: os.totalmem() },
    socket_io: JSON.parse(readFileSync(new URL("./node_modules/socket.io/package.json", import.meta.url))).version,
    rows: results,
    failures,
}, null, 2) + "\n");
console.log(`written to ${opts.out}`);
if (failures.length) {
    console.error(`loadgen: ${failures.length} run(s) failed:\n  ${failures.join("\n  ")}`);
    process.exit(1);
}
