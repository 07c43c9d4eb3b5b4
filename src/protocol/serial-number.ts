// Serial-number arithmetic (RFC 1982) for the counters that wrap: v2 frame
// numbers and capture times and RTP timestamps (32 bits), RTP sequence
// numbers (16 bits). "a is newer than b" when a is less than half the
// counter's range ahead of b; exactly half is ambiguous and counts as not newer.

/** How far `a` is ahead of `b`, modulo 2^32 (0 … 2^32−1). */
export function ahead32(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** True when 32-bit counter value `a` comes after `b`. */
export function isNewer32(a: number, b: number): boolean {
  const distance = ahead32(a, b);
  return distance !== 0 && distance < 0x8000_0000;
}

/** How far `a` is ahead of `b` (0 when equal); undefined when `a` is behind `b` (half the range or more ahead). */
export function forward32(a: number, b: number): number | undefined {
  const distance = ahead32(a, b);
  return distance < 0x8000_0000 ? distance : undefined;
}

/** How far `a` is ahead of `b`, modulo 2^16 (0 … 65535). */
export function ahead16(a: number, b: number): number {
  return (a - b) & 0xffff;
}

/** True when 16-bit counter value `a` comes after `b`. */
export function isNewer16(a: number, b: number): boolean {
  const distance = ahead16(a, b);
  return distance !== 0 && distance < 0x8000;
}
