// The numbers of the JS client are the Rust sources' numbers: the generated
// files are current, and the built module exports every constant with the
// value the Rust source gives it (re-read here, not copied).

import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { OUTPUTS, PACKAGE_DIR, readAll, rust, tsName, parseConsts } from "../scripts/gen-protocol.mjs";
import * as built from "../dist/index.js";

const all = readAll();

test("the generated src/limits.ts, src/codes.ts and src/policy.ts are current", () => {
  for (const [path, render] of Object.entries(OUTPUTS)) {
    assert.equal(readFileSync(join(PACKAGE_DIR, path), "utf8"), render(all), `${path} is stale: run npm run gen`);
  }
});

test("every constant of protocol/src/limits.rs and lib.rs is exported with the same value", () => {
  assert.ok(all.limits.length >= 30, `only ${all.limits.length} constants read from limits.rs`);
  for (const c of [...all.limits, ...all.lib]) {
    assert.equal(built.limits[tsName(c)], c.value, `${c.name}`);
  }
  // Spot checks against the numbers the DESIGN names, in case the parser itself drifts.
  assert.equal(built.limits.MAX_SIGNAL_TYPE_BYTES, 128);
  assert.equal(built.limits.MAX_SIGNAL_DATA_BYTES, 8192);
  assert.equal(built.limits.MAX_FRAME_BYTES, 128 * 1024);
  assert.equal(built.limits.PROTOCOL_VERSION, 1);
  assert.equal(built.limits.SUBPROTOCOL, "otc-signal.v1");
  assert.equal(built.limits.WS_PATH, "/v1/ws");
  assert.equal(built.limits.DEFAULT_RECONNECT_GRACE_MS, 30_000);
});

test("every ErrorCode of protocol/src/codes.rs has its number and name", () => {
  const text = rust("protocol/src/codes.rs");
  const n = Number(/pub const ALL: \[ErrorCode; ([0-9]+)\]/.exec(text)[1]);
  assert.equal(all.codes.length, n, "as many codes as ErrorCode::ALL lists");
  assert.equal(Object.keys(built.ErrorCode).length, n);
  for (const { name, code } of all.codes) {
    assert.equal(built.ErrorCode[name], code, name);
    assert.equal(built.errorName(code), name);
    const e = new built.OTError(code, "x");
    assert.equal(e.code, code);
    assert.equal(e.name, name);
  }
  for (const [name, code] of [["AuthorizationFailure", 1004], ["NotConnected", 1010], ["NullOrInvalidParameter", 1011],
    ["SignalDataTooLong", 1413], ["SignalTypeTooLong", 1414], ["InvalidSignalType", 1461], ["SignalTargetNotConnected", 1600]]) {
    assert.equal(built.ErrorCode[name], code);
  }
});

test("disconnect reasons are protocol/src/messages.rs's", () => {
  const text = rust("protocol/src/messages.rs");
  const n = Number(/pub const ALL: \[DisconnectReason; ([0-9]+)\]/.exec(text)[1]);
  assert.equal(built.DISCONNECT_REASONS.length, n);
  assert.deepEqual([...built.DISCONNECT_REASONS], all.reasons.map((r) => r.wire));
  assert.equal(built.reasonName("force_disconnected"), "forceDisconnected");
});

test("the reconnection policy is the C library's (src/reconnect.rs, src/session.rs)", () => {
  const rec = parseConsts(rust("src/reconnect.rs"), { pubOnly: false });
  const ses = parseConsts(rust("src/session.rs"), { pubOnly: false });
  for (const c of all.policy) {
    const src = (c.source === "src/reconnect.rs" ? rec : ses).find((x) => x.name === c.name);
    assert.equal(built.policy[tsName(c)], src.value, c.name);
  }
  assert.equal(built.policy.ACK_EVERY_EVENTS, 64);
  assert.equal(built.policy.ACK_INTERVAL_MS, 250);
  assert.equal(built.policy.FIRST_RETRY_MS, 50);
  assert.equal(built.policy.MAX_RETRY_MS, 2000);
});
