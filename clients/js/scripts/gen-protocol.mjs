#!/usr/bin/env node
// Generates src/limits.ts, src/codes.ts and src/policy.ts from the Rust
// sources that define them, so the JavaScript client and the C library obey
// the same numbers:
//
//   protocol/src/limits.rs   every bound            -> src/limits.ts
//   protocol/src/lib.rs      version, subprotocol   -> src/limits.ts
//   protocol/src/codes.rs    ErrorCode              -> src/codes.ts
//   protocol/src/messages.rs DisconnectReason names -> src/codes.ts
//   src/reconnect.rs, src/session.rs (the C library's own policy: backoff,
//                            acks, dead-link bounds) -> src/policy.ts
//
// Usage: node scripts/gen-protocol.mjs          write the files
//        node scripts/gen-protocol.mjs --check  exit 1 if any is stale
//
// The parsing functions are exported for test/protocol-constants.test.mjs,
// which re-reads the Rust sources and checks the built module's values.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = join(HERE, "..");
export const REPO_ROOT = join(PACKAGE_DIR, "..", "..");

export function rust(path) {
  return readFileSync(join(REPO_ROOT, path), "utf8");
}

/** The `///` lines right above line `i`, as plain text lines. */
function docAbove(lines, i) {
  const doc = [];
  for (let j = i - 1; j >= 0; j--) {
    const m = /^\s*\/\/\/ ?(.*)$/.exec(lines[j]);
    if (!m) break;
    doc.unshift(m[1]);
  }
  return doc;
}

/**
 * Evaluates the right-hand side of a Rust `const`: integer literals (with
 * `_`), names of earlier constants, `*` and `+`, `Duration::from_secs(N)` /
 * `from_millis(N)` (to milliseconds) and string literals.
 * Returns { kind: "number" | "duration" | "string", value }.
 */
export function evaluate(expr, known) {
  expr = expr.trim();
  const str = /^"((?:[^"\\]|\\.)*)"$/.exec(expr);
  if (str) return { kind: "string", value: JSON.parse(`"${str[1]}"`) };
  const dur = /^Duration::from_(secs|millis)\(([^)]*)\)$/.exec(expr);
  if (dur) {
    const n = evaluate(dur[2], known);
    if (n.kind !== "number") throw new Error(`bad duration ${expr}`);
    return { kind: "duration", value: dur[1] === "secs" ? n.value * 1000 : n.value };
  }
  const sum = expr.split("+");
  if (sum.length > 1) {
    return { kind: "number", value: sum.reduce((a, t) => a + evaluate(t, known).value, 0) };
  }
  const product = expr.split("*");
  if (product.length > 1) {
    return { kind: "number", value: product.reduce((a, t) => a * evaluate(t, known).value, 1) };
  }
  if (/^[0-9][0-9_]*$/.test(expr)) return { kind: "number", value: Number(expr.replaceAll("_", "")) };
  if (/^[A-Z][A-Z0-9_]*$/.test(expr)) {
    const k = known.get(expr);
    if (!k) throw new Error(`unknown constant ${expr}`);
    return k;
  }
  throw new Error(`cannot evaluate the Rust expression ${JSON.stringify(expr)}`);
}

/**
 * Every `const NAME: T = EXPR;` of a Rust source (one line each, as in the
 * files read here), in order, with its doc comment. `pubOnly` skips
 * private ones.
 */
export function parseConsts(text, { pubOnly = true } = {}) {
  const lines = text.split("\n");
  const known = new Map();
  const out = [];
  lines.forEach((line, i) => {
    const m = /^(pub )?const ([A-Z][A-Z0-9_]*): ([^=]+)= (.+);\s*$/.exec(line);
    if (!m || (pubOnly && !m[1])) return;
    const v = evaluate(m[4], known);
    known.set(m[2], v);
    out.push({ name: m[2], rustType: m[3].trim(), ...v, doc: docAbove(lines, i) });
  });
  return out;
}

/** `ErrorCode` of codes.rs: [{ name, code, doc }] in declaration order. */
export function parseErrorCodes(text) {
  const start = text.indexOf("pub enum ErrorCode {");
  const end = text.indexOf("\n}", start);
  if (start < 0 || end < 0) throw new Error("no `pub enum ErrorCode` in codes.rs");
  const lines = text.slice(start, end).split("\n");
  const out = [];
  lines.forEach((line, i) => {
    const m = /^\s*([A-Z][A-Za-z0-9]*) = ([0-9]+),\s*$/.exec(line);
    if (m) out.push({ name: m[1], code: Number(m[2]), doc: docAbove(lines, i) });
  });
  return out;
}

/** Wire names of `DisconnectReason` (its `as_str`), in declaration order. */
export function parseDisconnectReasons(text) {
  const out = [];
  for (const m of text.matchAll(/DisconnectReason::([A-Z][A-Za-z]*) => "([a-z_]+)",/g)) {
    out.push({ name: m[1], wire: m[2] });
  }
  return out;
}

/** The names the JS client takes from the C library's policy. */
export const POLICY_SOURCES = {
  "src/reconnect.rs": ["FIRST_RETRY", "MAX_RETRY", "MIN_IDLE", "MAX_ATTEMPT", "MIN_MARGIN", "MAX_MARGIN"],
  "src/session.rs": ["ACK_EVERY_EVENTS", "ACK_INTERVAL", "DISCONNECT_WAIT"],
};

/** Everything the generated files hold, read from the Rust sources. */
export function readAll() {
  const limits = parseConsts(rust("protocol/src/limits.rs"));
  const lib = parseConsts(rust("protocol/src/lib.rs"));
  const codes = parseErrorCodes(rust("protocol/src/codes.rs"));
  const reasons = parseDisconnectReasons(rust("protocol/src/messages.rs"));
  const policy = [];
  for (const [path, names] of Object.entries(POLICY_SOURCES)) {
    const all = parseConsts(rust(path), { pubOnly: false });
    for (const name of names) {
      const c = all.find((x) => x.name === name);
      if (!c) throw new Error(`${path} has no const ${name}`);
      policy.push({ ...c, source: path });
    }
  }
  return { limits, lib, codes, reasons, policy };
}

/** The TS name of a constant: durations get a `_MS` suffix. */
export function tsName(c) {
  return c.kind === "duration" ? `${c.name}_MS` : c.name;
}

function comment(doc, indent = "") {
  const lines = doc.map((l) => l.replaceAll("*/", "* /").replaceAll("[`", "`").replaceAll("`]", "`"));
  if (lines.length === 0) return "";
  return `${indent}/**\n${lines.map((l) => `${indent} *${l ? " " + l : ""}`).join("\n")}\n${indent} */\n`;
}

function literal(c) {
  return c.kind === "string" ? JSON.stringify(c.value) : String(c.value);
}

const HEADER = (sources) =>
  `// GENERATED by scripts/gen-protocol.mjs from ${sources}.\n` +
  `// Do not edit: change the Rust source and run \`npm run gen\` (the tests fail when this file is stale).\n\n`;

export function renderLimits({ limits, lib }) {
  let s = HEADER("protocol/src/limits.rs and protocol/src/lib.rs");
  for (const c of lib) s += comment(c.doc) + `export const ${tsName(c)} = ${literal(c)};\n\n`;
  for (const c of limits) {
    const doc = c.kind === "duration" ? [...c.doc, "", "(In milliseconds.)"] : c.doc;
    s += comment(doc) + `export const ${tsName(c)} = ${literal(c)};\n\n`;
  }
  return s.trimEnd() + "\n";
}

export function renderCodes({ codes, reasons }) {
  let s = HEADER("protocol/src/codes.rs and protocol/src/messages.rs");
  s += "/** The SDK's numeric error codes, by their name in protocol/src/codes.rs. */\n";
  s += "export const ErrorCode = {\n";
  for (const c of codes) s += comment(c.doc, "  ") + `  ${c.name}: ${c.code},\n`;
  s += "} as const;\n\n";
  s += "export type ErrorCodeName = keyof typeof ErrorCode;\n";
  s += "export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];\n\n";
  s += "/** Why the server ends a connection: the wire names of DisconnectReason. */\n";
  s += "export const DISCONNECT_REASONS = [\n";
  for (const r of reasons) s += `  ${JSON.stringify(r.wire)},\n`;
  s += "] as const;\n\n";
  s += "export type DisconnectReasonWire = (typeof DISCONNECT_REASONS)[number];\n";
  return s;
}

export function renderPolicy({ policy }) {
  let s = HEADER("the C library's src/reconnect.rs and src/session.rs");
  s += "// The JavaScript client reconnects, backs off and acknowledges exactly as libopentok does.\n\n";
  for (const c of policy) {
    const doc = [...c.doc, ...(c.doc.length ? [""] : []), `(${c.source}${c.kind === "duration" ? "; in milliseconds" : ""}.)`];
    s += comment(doc) + `export const ${tsName(c)} = ${literal(c)};\n\n`;
  }
  return s.trimEnd() + "\n";
}

export const OUTPUTS = {
  "src/limits.ts": renderLimits,
  "src/codes.ts": renderCodes,
  "src/policy.ts": renderPolicy,
};

function main() {
  const check = process.argv.includes("--check");
  const all = readAll();
  let stale = 0;
  for (const [path, render] of Object.entries(OUTPUTS)) {
    const text = render(all);
    const file = join(PACKAGE_DIR, path);
    let old = null;
    try {
      old = readFileSync(file, "utf8");
    } catch {}
    if (old === text) continue;
    if (check) {
      console.error(`${path} is stale: run npm run gen`);
      stale++;
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(stale ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
