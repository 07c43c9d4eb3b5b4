/** Why a datagram was refused; used as a counter key in receiver stats. */
export type ProtocolErrorCode =
  | "empty"
  | "truncated"
  | "oversized"
  | "bad-marker"
  | "bad-magic"
  | "unsupported-version"
  | "bad-flags"
  | "bad-chunk-index"
  | "bad-length"
  | "bad-fec"
  | "empty-payload"
  | "unknown-protocol"
  /** A sealed datagram that does not authenticate under the receiver's key. */
  | "bad-auth"
  /** A sealed datagram at a receiver that has no key. */
  | "sealed-no-key"
  /** A plain (unauthenticated) datagram at a receiver that has a key. */
  | "not-sealed"
  /** From a source address other than --from. */
  | "stranger"
  /** Authenticated, but for a frame already shown or a stream that is over: late, duplicated or replayed. */
  | "stale";

/** A datagram that does not parse. Everything from the network is hostile, so this is expected, counted and dropped. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** A byte as two hex digits, for error messages. */
export function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
