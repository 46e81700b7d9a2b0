// @otc/signal: a Vonage Video (OpenTok) style signaling client for
// otc-server, for browsers (the global WebSocket) and Node (the `ws`
// package). Speaks the wire protocol of protocol/src/messages.rs.
import { Session } from "./session.js";
export { Session, reasonName } from "./session.js";
export { Connection } from "./connection.js";
export { OTError, errorName } from "./errors.js";
export { ErrorCode, DISCONNECT_REASONS } from "./codes.js";
export * as limits from "./limits.js";
export * as policy from "./policy.js";
export { wsUrl } from "./transport.js";
export { checkSignal, checkSignalType, checkSignalData, checkTargets, utf8Length } from "./validate.js";
/** A new session of `sessionId` in the project `apiKey` (nothing touches the network until connect). */
export function initSession(apiKey, sessionId, options) {
    return new Session(String(apiKey), sessionId, options);
}
/** The Vonage JS entry point: `OT.initSession(apiKey, sessionId, { serverUrl })`. */
export const OT = { initSession };
export default OT;
