// A participant of a session, in the Vonage JS shape.

import type { ConnectionInfo } from "./messages.js";

export class Connection {
  /** Unique id of the connection. */
  readonly connectionId: string;
  /** When it joined, in milliseconds since the Unix epoch (0 if unknown). */
  readonly creationTime: number;
  /** The connection data of the token it joined with ("" if none). */
  readonly data: string;

  constructor(connectionId: string, creationTime: number, data: string) {
    this.connectionId = connectionId;
    this.creationTime = creationTime;
    this.data = data;
  }

  static fromInfo(i: ConnectionInfo): Connection {
    return new Connection(i.id, i.created_at_ms, i.data);
  }

  /** The OpenVidu spelling of connectionId. */
  get id(): string {
    return this.connectionId;
  }
}
