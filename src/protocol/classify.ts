import { LEGACY_MARKER_LAST, LEGACY_MARKER_MORE } from "./legacy.ts";
import { looksLikeRtp } from "./rtp.ts";
import { V2_MAGIC } from "./v2.ts";

export type WireProtocol = "legacy" | "v2" | "rtp";

/** Which protocol a datagram claims to be, from its first byte alone (see docs/protocol.md). */
export function classifyDatagram(datagram: Uint8Array): WireProtocol | undefined {
  const first = datagram[0];
  if (first === LEGACY_MARKER_MORE || first === LEGACY_MARKER_LAST) return "legacy";
  if (first === V2_MAGIC) return "v2";
  if (looksLikeRtp(datagram)) return "rtp";
  return undefined;
}
