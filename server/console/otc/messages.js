// The frames of the wire protocol (protocol/src/messages.rs): one JSON
// object per WebSocket text frame, tagged by `kind`, fields in snake_case.
// Unknown fields are ignored; an unknown kind is an error.
import { DISCONNECT_REASONS } from "./codes.js";
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from "./limits.js";
/** The event seq of a deliverable event, undefined for control frames. */
export function eventSeq(m) {
    return m.kind === "signal" || m.kind === "connection_created" || m.kind === "connection_destroyed" ? m.seq : undefined;
}
/** Serializes one client frame. */
export function encode(m) {
    return JSON.stringify(m);
}
export function connectFrame(apiKey, sessionId, token, suppress) {
    // ack_runs: one signal_ack may answer a run of signals (docs/protocol.md).
    return { kind: "connect", version: PROTOCOL_VERSION, api_key: apiKey, session_id: sessionId, token, suppress_connection_events: suppress, ack_runs: true };
}
/** Why a frame could not be decoded. */
export class DecodeError extends Error {
}
function field(o, name) {
    if (!(name in o))
        throw new DecodeError(`missing field ${name}`);
    return o[name];
}
function num(o, name) {
    const v = field(o, name);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0)
        throw new DecodeError(`field ${name} is not a non-negative integer`);
    return v;
}
function str(o, name, dflt) {
    if (dflt !== undefined && (o[name] === undefined || o[name] === null))
        return dflt;
    const v = field(o, name);
    if (typeof v !== "string")
        throw new DecodeError(`field ${name} is not a string`);
    return v;
}
function code(o) {
    const v = field(o, "code");
    if (typeof v !== "number" || !Number.isInteger(v))
        throw new DecodeError("field code is not an integer");
    return v;
}
function info(v) {
    if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new DecodeError("a connection is not an object");
    const o = v;
    const created = field(o, "created_at_ms");
    if (typeof created !== "number" || !Number.isInteger(created))
        throw new DecodeError("field created_at_ms is not an integer");
    return { id: str(o, "id"), created_at_ms: created, data: str(o, "data", "") };
}
function infos(o, name) {
    const v = field(o, name);
    if (!Array.isArray(v))
        throw new DecodeError(`field ${name} is not a list`);
    return v.map(info);
}
function reason(o) {
    const r = str(o, "reason");
    if (!DISCONNECT_REASONS.includes(r))
        throw new DecodeError(`unknown disconnect reason ${JSON.stringify(r)}`);
    return r;
}
/** Parses one server frame; throws DecodeError when it is not one. */
export function decodeServer(text) {
    // A JS string's length is at most its UTF-8 length, so this bound is
    // never stricter than the server's byte limit.
    if (text.length > MAX_FRAME_BYTES)
        throw new DecodeError(`frame is more than ${MAX_FRAME_BYTES} bytes`);
    let v;
    try {
        v = JSON.parse(text);
    }
    catch (e) {
        throw new DecodeError(`malformed frame: ${e.message}`);
    }
    if (typeof v !== "object" || v === null || Array.isArray(v))
        throw new DecodeError('a frame must be one JSON object with a "kind" field');
    const o = v;
    const kind = field(o, "kind");
    switch (kind) {
        case "connected":
            return {
                kind,
                version: num(o, "version"),
                session_id: str(o, "session_id"),
                connection: info(field(o, "connection")),
                connections: infos(o, "connections"),
                resume_secret: str(o, "resume_secret"),
                last_seq: num(o, "last_seq"),
                ping_interval_ms: num(o, "ping_interval_ms"),
                reconnect_grace_ms: num(o, "reconnect_grace_ms"),
            };
        case "connections":
            return { kind, connections: infos(o, "connections") };
        case "resumed":
            return { kind, last_client_seq: num(o, "last_client_seq") };
        case "error":
            return { kind, code: code(o), message: str(o, "message") };
        case "signal_ack":
            return o.first === undefined ? { kind, seq: num(o, "seq") } : { kind, seq: num(o, "seq"), first: num(o, "first") };
        case "signal_error":
            return { kind, seq: num(o, "seq"), code: code(o), message: str(o, "message") };
        case "signal": {
            const from = o.from === undefined || o.from === null ? null : str(o, "from");
            return { kind, seq: num(o, "seq"), from, type: str(o, "type", ""), data: str(o, "data", "") };
        }
        case "connection_created":
            return { kind, seq: num(o, "seq"), connection: info(field(o, "connection")) };
        case "connection_destroyed":
            return { kind, seq: num(o, "seq"), connection_id: str(o, "connection_id"), reason: reason(o) };
        case "ping":
        case "pong":
            return { kind, id: num(o, "id") };
        case "issue_reported":
            return { kind, id: num(o, "id"), issue_id: str(o, "issue_id") };
        case "issue_refused":
            return { kind, id: num(o, "id"), code: code(o), message: str(o, "message") };
        case "disconnected":
            return { kind, reason: reason(o), message: str(o, "message") };
        default:
            throw new DecodeError(`unknown frame kind ${JSON.stringify(kind)}`);
    }
}
