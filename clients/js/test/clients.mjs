// A session with a record of everything it was told, for the tests.

import { initSession } from "../dist/index.js";
import { API_KEY, token, within } from "./harness.mjs";

export const quiet = () => {};

/**
 * A session of `sessionId` on `url` whose events are all recorded in
 * `s.seen` ([type, event] in order), joined with a token carrying `data`.
 */
export async function join(url, sessionId, { data = "", role, options = {} } = {}) {
  const s = initSession(API_KEY, sessionId, { serverUrl: url, logger: quiet, ...options });
  s.seen = [];
  for (const type of ["sessionConnected", "sessionDisconnected", "sessionReconnecting", "sessionReconnected",
    "connectionCreated", "connectionDestroyed", "signal", "exception"]) {
    s.on(type, (e) => s.seen.push([type, e]));
  }
  await within(s.connect(token(sessionId, { data, role })), "connect");
  return s;
}

/** The signals `s` received (the generic listener), as [signalType, data, from id or null]. */
export const signals = (s) =>
  s.seen.filter(([t]) => t === "signal").map(([, e]) => [e.signalType, e.data, e.from ? e.from.connectionId : null]);

export const ofType = (s, type) => s.seen.filter(([t]) => t === type).map(([, e]) => e);

/** Disconnects every session given that is still connected, and waits for each to be told. */
export async function leave(...sessions) {
  await Promise.all(
    sessions.map((s) => {
      if (!s || s.state === "disconnected" || s.state === "new") return undefined;
      const gone = new Promise((r) => s.once("sessionDisconnected", r));
      s.disconnect();
      return within(gone, "sessionDisconnected");
    }),
  );
}
