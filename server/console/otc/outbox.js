// Signals on their way out, as the C library's src/outbox.rs keeps them:
// numbered with the client seq (1, 2, 3, ... per connection), kept until
// the server answers (signal_ack / signal_error), sent again in order and
// under their original numbers after a resume (the server routes each
// number once and answers a repeat as it answered first), failed loudly
// when the session ends. Bounded by MAX_UNANSWERED_SIGNALS.
//
// Paced: at most MAX_UNANSWERED_SIGNAL_BYTES of signal types and data are
// on the wire unanswered (what the server holds back for a sender whose
// recipients lag, and refuses past); a signal beyond it waits here,
// numbered, and goes out in order as answers make room (sendReady). One
// signal always fits an empty wire.
import { MAX_UNANSWERED_SIGNALS, MAX_UNANSWERED_SIGNAL_BYTES } from "./limits.js";
import { encode } from "./messages.js";
import { otError } from "./errors.js";
import { utf8Length } from "./validate.js";
export class Outbox {
    #nextSeq = 1;
    #pending = new Map();
    /** Pending signals not yet on the current link, in seq order, from #head. */
    #unsent = [];
    #head = 0;
    #wireBytes = 0;
    capacity;
    windowBytes;
    constructor(capacity = MAX_UNANSWERED_SIGNALS, windowBytes = MAX_UNANSWERED_SIGNAL_BYTES) {
        this.capacity = capacity;
        this.windowBytes = windowBytes;
    }
    /** Starts numbering again for a new connection (not for a resume). */
    restart() {
        this.#nextSeq = 1;
        this.#pending.clear();
        this.relink();
    }
    /**
     * A new link (a resume): nothing is on it yet, so every pending signal is
     * sent again, oldest first and as the window allows, by sendReady.
     */
    relink() {
        this.#wireBytes = 0;
        this.#unsent = [...this.#pending.values()];
        this.#head = 0;
        for (const e of this.#unsent)
            e.onWire = false;
    }
    /** Numbers and remembers a signal; a full outbox refuses it (1603). It goes out with the next sendReady that has room. */
    push(type, data, dataBytes, to, completion) {
        if (this.#pending.size >= this.capacity) {
            return otError("BufferFull", `${this.#pending.size} signals are already queued or waiting for the server's acknowledgement`);
        }
        const seq = this.#nextSeq++;
        const frame = encode(to === undefined ? { kind: "signal", seq, type, data } : { kind: "signal", seq, type, data, to });
        const e = { seq, frame, type, dataBytes, completion, weight: utf8Length(type) + dataBytes, onWire: false };
        this.#pending.set(seq, e);
        this.#unsent.push(e);
        return e;
    }
    /** Passes to `send`, in order, the frames not yet on the link that fit the window; returns how many. */
    sendReady(send) {
        let sent = 0;
        while (this.#head < this.#unsent.length) {
            const e = this.#unsent[this.#head];
            if (this.#pending.get(e.seq) !== e) {
                this.#head++; // answered or drained meanwhile
                continue;
            }
            if (this.#wireBytes > 0 && this.#wireBytes + e.weight > this.windowBytes)
                break;
            send(e.frame);
            e.onWire = true;
            this.#wireBytes += e.weight;
            this.#head++;
            sent++;
        }
        if (this.#head > 1024 && this.#head * 2 > this.#unsent.length) {
            this.#unsent = this.#unsent.slice(this.#head);
            this.#head = 0;
        }
        return sent;
    }
    /** The server answered the signal numbered `seq`. */
    settle(seq) {
        const e = this.#pending.get(seq);
        if (!e)
            return undefined;
        this.#pending.delete(seq);
        if (e.onWire)
            this.#wireBytes -= e.weight;
        return e;
    }
    /** The server answered every signal numbered first..last (an ack run): those still pending, settled in order. */
    settleRun(first, last) {
        const seqs = [];
        for (const seq of this.#pending.keys()) {
            if (seq > last)
                break; // kept in seq order
            if (seq >= first)
                seqs.push(seq);
        }
        return seqs.map((seq) => this.settle(seq));
    }
    /** Every waiting signal, oldest first, removed (to fail them). */
    drain() {
        const all = [...this.#pending.values()];
        this.#pending.clear();
        this.#unsent = [];
        this.#head = 0;
        this.#wireBytes = 0;
        return all;
    }
    get size() {
        return this.#pending.size;
    }
}
