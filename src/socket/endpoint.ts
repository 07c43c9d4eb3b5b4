/** Where a datagram came from or goes to. */
export interface Endpoint {
  address: string;
  port: number;
}

/** A datagram to send, and to where (what the pure cores hand their socket shells). */
export interface OutgoingDatagram extends Endpoint {
  datagram: Uint8Array;
}
