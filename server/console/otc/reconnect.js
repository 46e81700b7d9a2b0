// The policy of automatic reconnection, computed as the C library's
// src/reconnect.rs computes it, from the same constants (src/policy.ts is
// generated from that file): the server's `connected` frame gives its ping
// interval and grace, the window can be overridden, backoff is capped
// exponential with jitter.
import { FIRST_RETRY_MS, MAX_ATTEMPT_MS, MAX_MARGIN_MS, MAX_RETRY_MS, MIN_IDLE_MS, MIN_MARGIN_MS } from "./policy.js";
const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
export function policy(windowMs, pingIntervalMs, graceMs) {
    return {
        windowMs: windowMs ?? graceMs + clamp(Math.floor(graceMs / 2), MIN_MARGIN_MS, MAX_MARGIN_MS),
        idleMs: Math.max(pingIntervalMs * 3, MIN_IDLE_MS),
        pingEveryMs: Math.max(pingIntervalMs, MIN_IDLE_MS / 3),
    };
}
/** Longest one resume attempt may take: two dead-link intervals, within 1 s..10 s. */
export function attemptTimeout(p) {
    return clamp(p.idleMs * 2, 1000, MAX_ATTEMPT_MS);
}
/** Delays between attempts: each drawn from the upper half of a doubling step. */
export class Backoff {
    #next = FIRST_RETRY_MS;
    #cap;
    #random;
    constructor(p, random = Math.random) {
        this.#cap = Math.max(Math.min(MAX_RETRY_MS, p.windowMs / 4), FIRST_RETRY_MS);
        this.#random = random;
    }
    nextDelay() {
        const step = Math.min(this.#next, this.#cap);
        this.#next = Math.min(this.#next * 2, this.#cap);
        const half = step / 2;
        return half + this.#random() * half;
    }
}
