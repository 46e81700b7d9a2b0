// The frames of the wire protocol (protocol/src/messages.rs): one JSON
// object per WebSocket text frame, tagged by `kind`, fields in snake_case.
// Unknown fields are ignored; an unknown kind is an error.

import { DISCONNECT_REASONS, type DisconnectReasonWire } from "./codes.js";
import { MAX_FRAME_BYTES, PROTOCOL_VERSION } from "./limits.js";

/** A participant as the server describes it. */
export interface ConnectionInfo {
  id: string;
  created_at_ms: number;
  data: string;
}

/** Frames the client sends. */
export type ClientMessage =
  | { kind: "connect"; version: number; api_key: string; session_id: string; token: string; suppress_connection_events: boolean; ack_runs?: boolean }
  | { kind: "resume"; version: number; api_key: string; session_id: string; connection_id: string; resume_secret: string; last_seq: number; ack_runs?: boolean }
  | { kind: "signal"; seq: number; type: string; data: string; to?: string[] }
  | { kind: "ack"; seq: number }
  | { kind: "ping"; id: number }
  | { kind: "pong"; id: number }
  | { kind: "disconnect" };

/** Frames the server sends. */
export type ServerMessage =
  | {
      kind: "connected";
      version: number;
      session_id: string;
      connection: ConnectionInfo;
      connections: ConnectionInfo[];
      resume_secret: string;
      last_seq: number;
      ping_interval_ms: number;
      reconnect_grace_ms: number;
    }
  | { kind: "connections"; connections: ConnectionInfo[] }
  | { kind: "resumed"; last_client_seq: number }
  | { kind: "error"; code: number; message: string }
  | { kind: "signal_ack"; seq: number; first?: number }
  | { kind: "signal_error"; seq: number; code: number; message: string }
  | { kind: "signal"; seq: number; from: string | null; type: string; data: string }
  | { kind: "connection_created"; seq: number; connection: ConnectionInfo }
  | { kind: "connection_destroyed"; seq: number; connection_id: string; reason: DisconnectReasonWire }
  | { kind: "ping"; id: number }
  | { kind: "pong"; id: number }
  | { kind: "issue_reported"; id: number; issue_id: string }
  | { kind: "issue_refused"; id: number; code: number; message: string }
  | { kind: "disconnected"; reason: DisconnectReasonWire; message: string };

/** The event seq of a deliverable event, undefined for control frames. */
export function eventSeq(m: ServerMessage): number | undefined {
  return m.kind === "signal" || m.kind === "connection_created" || m.kind === "connection_destroyed" ? m.seq : undefined;
}

/** Serializes one client frame. */
export function encode(m: ClientMessage): string {
  return JSON.stringify(m);
}

export function connectFrame(apiKey: string, sessionId: string, token: string, suppress: boolean): ClientMessage {
  // ack_runs: one signal_ack may answer a run of signals (docs/protocol.md).
  return { kind: "connect", version: PROTOCOL_VERSION, api_key: apiKey, session_id: sessionId, token, suppress_connection_events: suppress, ack_runs: true };
}

/** Why a frame could not be decoded. */
export class DecodeError extends Error {}

type Obj = Record<string, unknown>;

function field(o: Obj, name: string): unknown {
  if (!(name in o)) throw new DecodeError(`missing field ${name}`);
  return o[name];
}
function num(o: Obj, name: string): number {
  const v = field(o, name);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new DecodeError(`field ${name} is not a non-negative integer`);
  return v;
}
function str(o: Obj, name: string, dflt?: string): string {
  if (dflt !== undefined && (o[name] === undefined || o[name] === null)) return dflt;
  const v = field(o, name);
  if (typeof v !== "string") throw new DecodeError(`field ${name} is not a string`);
  return v;
}
function code(o: Obj): number {
  const v = field(o, "code");
  if (typeof v !== "number" || !Number.isInteger(v)) throw new DecodeError("field code is not an integer");
  return v;
}
function info(v: unknown): ConnectionInfo {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new DecodeError("a connection is not an object");
  const o = v as Obj;
  const created = field(o, "created_at_ms");
  if (typeof created !== "number" || !Number.isInteger(created)) throw new DecodeError("field created_at_ms is not an integer");
  return { id: str(o, "id"), created_at_ms: created, data: str(o, "data", "") };
}
function infos(o: Obj, name: string): ConnectionInfo[] {
  const v = field(o, name);
  if (!Array.isArray(v)) throw new DecodeError(`field ${name} is not a list`);
  return v.map(info);
}
function reason(o: Obj): DisconnectReasonWire {
  const r = str(o, "reason");
  if (!(DISCONNECT_REASONS as readonly string[]).includes(r)) throw new DecodeError(`unknown disconnect reason ${JSON.stringify(r)}`);
  return r as DisconnectReasonWire;
}

/** Parses one server frame; throws DecodeError when it is not one. */
export function decodeServer(text: string): ServerMessage {
  // A JS string's length is at most its UTF-8 length, so this bound is
  // never stricter than the server's byte limit.
  if (text.length > MAX_FRAME_BYTES) throw new DecodeError(`frame is more than ${MAX_FRAME_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DecodeError(`malformed frame: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new DecodeError('a frame must be one JSON object with a "kind" field');
  const o = v as Obj;
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
