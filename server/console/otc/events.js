// A small event emitter in the Vonage JS shape:
//   on(type, handler, context?)  on({ type: handler, ... }, context?)
//   once(...) the same, for one event;  off(type?, handler?, context?)
// A space-separated list of types is taken too ("signal connectionCreated").
export class Emitter {
    #listeners = new Map();
    /** Told about a handler that threw (the others still run). */
    reportHandlerError = () => { };
    on(type, handler, context) {
        return this.#add(type, handler, context, false);
    }
    once(type, handler, context) {
        return this.#add(type, handler, context, true);
    }
    /** The Vonage alias of `on`. */
    addEventListener(type, handler, context) {
        return this.on(type, handler, context);
    }
    /** The Vonage alias of `off`. */
    removeEventListener(type, handler, context) {
        return this.off(type, handler, context);
    }
    /**
     * Removes listeners: all of them (no argument), all of a type, or those
     * of a type with this handler (and context, if given).
     */
    off(type, handler, context) {
        if (type === undefined) {
            this.#listeners.clear();
            return this;
        }
        if (typeof type === "object") {
            for (const [t, h] of Object.entries(type))
                this.off(t, h, handler);
            return this;
        }
        for (const t of type.split(/\s+/).filter(Boolean)) {
            if (handler === undefined) {
                this.#listeners.delete(t);
                continue;
            }
            const kept = (this.#listeners.get(t) ?? []).filter((l) => l.handler !== handler || (context !== undefined && l.context !== context));
            if (kept.length)
                this.#listeners.set(t, kept);
            else
                this.#listeners.delete(t);
        }
        return this;
    }
    /** Number of listeners of a type. */
    listenerCount(type) {
        return this.#listeners.get(type)?.length ?? 0;
    }
    #remove(type, l) {
        const list = this.#listeners.get(type);
        const i = list ? list.indexOf(l) : -1;
        if (list && i >= 0) {
            list.splice(i, 1);
            if (list.length === 0)
                this.#listeners.delete(type);
        }
    }
    #add(type, handler, context, once) {
        if (typeof type === "object" && type !== null) {
            for (const [t, h] of Object.entries(type))
                this.#add(t, h, handler, once);
            return this;
        }
        if (typeof type !== "string" || typeof handler !== "function") {
            throw new TypeError("on/once need an event type and a handler function");
        }
        for (const t of type.split(/\s+/).filter(Boolean)) {
            const list = this.#listeners.get(t) ?? [];
            list.push({ handler: handler, context, once });
            this.#listeners.set(t, list);
        }
        return this;
    }
    /** Calls every listener of `type` with `event`, in the order they were added. */
    dispatch(type, event) {
        const list = this.#listeners.get(type);
        if (!list || list.length === 0)
            return;
        // A copy: handlers may add or remove listeners while this runs.
        for (const l of [...list]) {
            if (l.once)
                this.#remove(type, l);
            try {
                l.handler.call(l.context ?? this, event);
            }
            catch (e) {
                this.reportHandlerError(`a ${type} handler threw`, e);
            }
        }
    }
}
