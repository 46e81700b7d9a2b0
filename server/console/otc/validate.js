// Checks of user-supplied values, the same as protocol/src/validate.rs and
// with the same error codes: the client refuses exactly what the server
// would refuse, before anything is queued.
import { MAX_ID_BYTES, MAX_SIGNAL_DATA_BYTES, MAX_SIGNAL_TARGETS, MAX_SIGNAL_TYPE_BYTES, MAX_TOKEN_BYTES, } from "./limits.js";
import { otError } from "./errors.js";
/**
 * The length in bytes of `s` as UTF-8, or -1 when `s` holds a lone
 * surrogate (no UTF-8 for it: the server would refuse the whole frame).
 */
export function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80)
            n += 1;
        else if (c < 0x800)
            n += 2;
        else if (c >= 0xd800 && c <= 0xdbff) {
            const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
            if (d < 0xdc00 || d > 0xdfff)
                return -1;
            n += 4;
            i++;
        }
        else if (c >= 0xdc00 && c <= 0xdfff)
            return -1;
        else
            n += 3;
    }
    return n;
}
/** Is `c` (one UTF-16 unit) allowed in a signal type? `A-Z a-z 0-9 - _ ~`. */
function isTypeChar(c) {
    return ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
        c === 0x2d || c === 0x5f || c === 0x7e);
}
/** A signal type: at most 128 bytes of `A-Z a-z 0-9 - _ ~`; "" is allowed. */
export function checkSignalType(t) {
    const len = utf8Length(t);
    if (len > MAX_SIGNAL_TYPE_BYTES) {
        return otError("SignalTypeTooLong", `signal type is ${len} bytes, more than the limit of ${MAX_SIGNAL_TYPE_BYTES}`);
    }
    for (const ch of t) {
        if (ch.length !== 1 || !isTypeChar(ch.charCodeAt(0))) {
            return otError("InvalidSignalType", `signal type holds ${JSON.stringify(ch)}, outside A-Z a-z 0-9 - _ ~`);
        }
    }
    return undefined;
}
/** Signal data: at most 8192 bytes of UTF-8 (a lone surrogate is not UTF-8: 1011). */
export function checkSignalData(d) {
    const len = utf8Length(d);
    if (len < 0)
        return otError("NullOrInvalidParameter", "signal data is not valid Unicode (it holds a lone surrogate)");
    if (len > MAX_SIGNAL_DATA_BYTES) {
        return otError("SignalDataTooLong", `signal data is ${len} bytes, more than the limit of ${MAX_SIGNAL_DATA_BYTES}`);
    }
    return undefined;
}
/** An identifier (session id, connection id, API key): 1..512 bytes. */
export function checkId(what, v) {
    if (typeof v !== "string")
        return otError("NullOrInvalidParameter", `${what} is not a string`);
    const len = utf8Length(v);
    if (len <= 0 || len > MAX_ID_BYTES)
        return otError("NullOrInvalidParameter", `${what} is empty or longer than ${MAX_ID_BYTES} bytes`);
    return undefined;
}
/** A target list (already turned into ids); `undefined` = the whole session. */
export function checkTargets(to) {
    if (to === undefined)
        return undefined;
    if (to.length === 0)
        return otError("NullOrInvalidParameter", "a signal sent to a list of connections needs at least one target");
    if (to.length > MAX_SIGNAL_TARGETS) {
        return otError("NullOrInvalidParameter", `a signal may name at most ${MAX_SIGNAL_TARGETS} target connections, not ${to.length}`);
    }
    for (const id of to) {
        const e = checkId("target connection id", id);
        if (e)
            return e;
    }
    return undefined;
}
/** A whole signal, in the order the SDK reports problems: type, data, targets. */
export function checkSignal(t, d, to) {
    return checkSignalType(t) ?? checkSignalData(d) ?? checkTargets(to);
}
/** A token: not empty, at most MAX_TOKEN_BYTES. */
export function checkToken(token) {
    if (typeof token !== "string" || token.length === 0)
        return otError("NullOrInvalidParameter", "the token is empty");
    const len = utf8Length(token);
    if (len < 0)
        return otError("NullOrInvalidParameter", "the token is not valid Unicode");
    if (len > MAX_TOKEN_BYTES) {
        return otError("NullOrInvalidParameter", `the token is ${len} bytes, more than the limit of ${MAX_TOKEN_BYTES}`);
    }
    return undefined;
}
