// Errors with the SDK's numeric codes (protocol/src/codes.rs).
import { ErrorCode } from "./codes.js";
const NAMES = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
/** The name in protocol/src/codes.rs of an SDK error code ("Unknown" if none). */
export function errorName(code) {
    return NAMES.get(code) ?? "Unknown";
}
/**
 * An error of this client or the server: `code` is the SDK's number (1010,
 * 1413, ...), `name` its name in protocol/src/codes.rs ("NotConnected",
 * "SignalDataTooLong", ...), `message` says why.
 */
export class OTError extends Error {
    code;
    name;
    constructor(code, message) {
        super(message);
        this.code = code;
        this.name = errorName(code);
    }
}
/** A new error for a code given by name. */
export function otError(name, message) {
    return new OTError(ErrorCode[name], message);
}
