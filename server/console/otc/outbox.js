// Signals on their way out, as the C library's src/outbox.rs keeps them:
// numbered with the client seq (1, 2, 3, ... per connection), kept until
// the server answers (signal_ack / signal_error), sent again in order and
// under their original numbers after a resume (the server routes each
// number once and answers a repeat as it answered first), failed loudly
// when the session ends. Bounded by MAX_UNANSWERED_SIGNALS.
import { MAX_UNANSWERED_SIGNALS } from "./limits.js";
import { encode } from "./messages.js";
import { otError } from "./errors.js";
export class Outbox {
    #nextSeq = 1;
    #pending = new Map();
    capacity;
    constructor(capacity = MAX_UNANSWERED_SIGNALS) {
        this.capacity = capacity;
    }
    /** Starts numbering again for a new connection (not for a resume). */
    restart() {
        this.#nextSeq = 1;
        this.#pending.clear();
    }
    /** Numbers and remembers a signal; a full outbox refuses it (1603). */
    push(type, data, dataBytes, to, completion) {
        if (this.#pending.size >= this.capacity) {
            return otError("BufferFull", `${this.#pending.size} signals are already queued or waiting for the server's acknowledgement`);
        }
        const seq = this.#nextSeq++;
        const frame = encode(to === undefined ? { kind: "signal", seq, type, data } : { kind: "signal", seq, type, data, to });
        const p = { seq, frame, type, dataBytes, completion };
        this.#pending.set(seq, p);
        return p;
    }
    /** The server answered the signal numbered `seq`. */
    settle(seq) {
        const p = this.#pending.get(seq);
        if (p)
            this.#pending.delete(seq);
        return p;
    }
    /** Every waiting signal, oldest first, removed (to fail them). */
    drain() {
        const all = [...this.#pending.values()];
        this.#pending.clear();
        return all;
    }
    /** Every waiting signal in client seq order: what a resume sends again. */
    all() {
        return this.#pending.values();
    }
    get size() {
        return this.#pending.size;
    }
}
