// A participant of a session, in the Vonage JS shape.
export class Connection {
    /** Unique id of the connection. */
    connectionId;
    /** When it joined, in milliseconds since the Unix epoch (0 if unknown). */
    creationTime;
    /** The connection data of the token it joined with ("" if none). */
    data;
    constructor(connectionId, creationTime, data) {
        this.connectionId = connectionId;
        this.creationTime = creationTime;
        this.data = data;
    }
    static fromInfo(i) {
        return new Connection(i.id, i.created_at_ms, i.data);
    }
    /** The OpenVidu spelling of connectionId. */
    get id() {
        return this.connectionId;
    }
}
