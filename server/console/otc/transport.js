// The WebSocket link to otc-server: the browser's WebSocket, or the `ws`
// package under Node (loaded only there). A link moves protocol frames and
// knows nothing about sessions; reconnecting is opening another one.
import { MAX_FRAME_BYTES, SUBPROTOCOL, WS_PATH } from "./limits.js";
import { decodeServer, encode, DecodeError } from "./messages.js";
import { otError } from "./errors.js";
/**
 * The server's base URL (http://, https://, ws:// or wss:// host:port, with
 * an optional path prefix) as the URL of its WebSocket endpoint, as the C
 * library computes it: ws:// or wss://, the path ending in /v1/ws, without
 * query, fragment or credentials.
 */
export function wsUrl(base) {
    let url;
    try {
        url = new URL(base.trim());
    }
    catch {
        throw otError("NullOrInvalidParameter", `server URL ${JSON.stringify(base)} is not a URL`);
    }
    const scheme = { "http:": "ws:", "ws:": "ws:", "https:": "wss:", "wss:": "wss:" }[url.protocol];
    if (!scheme) {
        throw otError("NullOrInvalidParameter", `server URL ${JSON.stringify(base)}: scheme ${url.protocol.replace(/:$/, "")} is not http, https, ws or wss`);
    }
    if (!url.hostname)
        throw otError("NullOrInvalidParameter", `server URL ${JSON.stringify(base)} has no host`);
    let path = url.pathname.replace(/\/+$/, "");
    if (!path.endsWith(WS_PATH))
        path += WS_PATH;
    return `${scheme}//${url.host}${path}`;
}
let nodeWs;
function isNode() {
    const p = globalThis.process;
    return typeof p === "object" && p !== null && typeof p.versions?.node === "string";
}
/**
 * The WebSocket to use: the one given, else `ws` under Node, else the
 * global WebSocket (browsers, Deno, Node 22+ without `ws`).
 */
export async function socketFactory(given) {
    if (given)
        return given;
    if (isNode()) {
        // A computed specifier, so that browser bundlers leave `ws` out.
        const name = "ws";
        nodeWs ??= import(name).then((m) => (m.WebSocket ?? m.default), () => undefined);
        const ws = await nodeWs;
        if (ws)
            return ws;
    }
    const global = globalThis.WebSocket;
    if (!global)
        throw otError("ConnectionFailed", "no WebSocket implementation: install the ws package or pass options.WebSocket");
    return global;
}
/**
 * One WebSocket. Frames and the end are buffered until a reader is
 * attached, so nothing that arrives right after the first answer (the rest
 * of a participant list, replayed events) is missed while the caller is
 * still awaiting that answer.
 */
export class Link {
    url;
    #socket;
    #reader;
    #buffered = [];
    #ended = false;
    #opened;
    constructor(factory, url) {
        this.url = url;
        // `ws` takes options: refuse oversize frames before buffering them, no
        // compression (the C library and the server use none).
        this.#socket = new factory(url, [SUBPROTOCOL], isNode() ? { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false } : undefined);
        let opened;
        let failed;
        this.#opened = new Promise((res, rej) => {
            opened = res;
            failed = rej;
        });
        this.#opened.catch(() => { });
        const s = this.#socket;
        s.onopen = () => opened();
        s.onerror = (ev) => {
            const why = ev?.message ?? ev?.error?.message ?? "WebSocket error";
            failed(otError("ConnectionFailed", `cannot open ${url}: ${why}`));
            this.#finish({ kind: "failed", message: String(why) });
        };
        s.onclose = (ev) => {
            failed(otError("ConnectionFailed", `${url} closed the link before it opened (code ${ev?.code ?? "?"})`));
            this.#finish({ kind: "closed", code: ev?.code, reason: ev?.reason });
        };
        s.onmessage = (ev) => {
            if (this.#ended)
                return;
            if (typeof ev.data !== "string") {
                this.#finish({ kind: "malformed", message: "binary frame" });
                this.close();
                return;
            }
            let m;
            try {
                m = decodeServer(ev.data);
            }
            catch (e) {
                this.#finish({ kind: "malformed", message: e instanceof DecodeError ? e.message : String(e) });
                this.close();
                return;
            }
            this.#deliver(m);
        };
    }
    /** Resolves once the WebSocket is open; rejects (1006) if it never opens. */
    opened() {
        return this.#opened;
    }
    get ended() {
        return this.#ended;
    }
    /** Queues one frame; false if the link is not open. */
    send(m) {
        return this.sendText(encode(m));
    }
    sendText(text) {
        if (this.#ended || this.#socket.readyState !== 1)
            return false;
        try {
            this.#socket.send(text);
            return true;
        }
        catch {
            return false;
        }
    }
    /** Hands every buffered and later frame and the end to `reader`. */
    attach(reader) {
        this.#reader = reader;
        // One at a time: the reader may detach itself (or close) after any item,
        // and what it has not taken stays buffered, in order.
        while (this.#reader === reader && this.#buffered.length > 0) {
            const x = this.#buffered.shift();
            if (isEnd(x))
                reader.end(x);
            else
                reader.frame(x);
        }
    }
    /** Detaches the reader: nothing more is delivered. */
    detach() {
        this.#reader = undefined;
    }
    /** Closes the WebSocket (a normal close; the server keeps the connection for a resume unless told `disconnect`). */
    close() {
        this.#reader = undefined;
        try {
            this.#socket.close(1000);
        }
        catch { }
    }
    /** Drops the TCP connection at once where that is possible (`ws`), else closes. */
    abort() {
        this.#reader = undefined;
        try {
            if (this.#socket.terminate)
                this.#socket.terminate();
            else
                this.#socket.close(1000);
        }
        catch { }
    }
    #deliver(m) {
        if (this.#reader && this.#buffered.length === 0)
            this.#reader.frame(m);
        else
            this.#buffered.push(m);
    }
    #finish(e) {
        if (this.#ended)
            return;
        this.#ended = true;
        if (this.#reader && this.#buffered.length === 0)
            this.#reader.end(e);
        else
            this.#buffered.push(e);
    }
}
function isEnd(x) {
    return x.kind === "closed" || x.kind === "failed" || x.kind === "malformed";
}
