import { describe, expect, test } from "bun:test";
import { ahead16, ahead32, forward32, isNewer16, isNewer32 } from "../../src/protocol/serial-number.ts";

describe("serial-number arithmetic (RFC 1982)", () => {
  test("32 bits: newer across the wrap, never equal, half the range is not newer", () => {
    expect(isNewer32(1, 0)).toBe(true);
    expect(isNewer32(0, 1)).toBe(false);
    expect(isNewer32(5, 5)).toBe(false);
    expect(isNewer32(0, 0xffff_ffff)).toBe(true); // wrapped
    expect(isNewer32(0xffff_ffff, 0)).toBe(false);
    expect(isNewer32(0x7fff_ffff, 0)).toBe(true);
    expect(isNewer32(0x8000_0000, 0)).toBe(false); // exactly half: ambiguous
    expect(ahead32(2, 0xffff_fffe)).toBe(4);
    expect(ahead32(0, 1)).toBe(0xffff_ffff);
  });

  test("16 bits: the same rules for RTP sequence numbers", () => {
    expect(isNewer16(1, 0)).toBe(true);
    expect(isNewer16(0, 0xffff)).toBe(true);
    expect(isNewer16(0xffff, 0)).toBe(false);
    expect(isNewer16(0x7fff, 0)).toBe(true);
    expect(isNewer16(0x8000, 0)).toBe(false);
    expect(isNewer16(7, 7)).toBe(false);
    expect(ahead16(3, 0xfffe)).toBe(5);
  });

  test("newer is antisymmetric for every distance but 0 and half the range", () => {
    for (let i = 0; i < 2000; i++) {
      const a = Math.floor(Math.random() * 2 ** 32);
      const b = Math.floor(Math.random() * 2 ** 32);
      if (a === b || ahead32(a, b) === 0x8000_0000) continue;
      expect(isNewer32(a, b)).toBe(!isNewer32(b, a));
      const a16 = a & 0xffff;
      const b16 = b & 0xffff;
      if (a16 === b16 || ahead16(a16, b16) === 0x8000) continue;
      expect(isNewer16(a16, b16)).toBe(!isNewer16(b16, a16));
    }
  });
});

describe("forward32", () => {
  test("how far ahead, across the wrap; undefined when behind", () => {
    expect(forward32(5, 5)).toBe(0);
    expect(forward32(0x10, 0xffff_fff0)).toBe(0x20);
    expect(forward32(0xffff_fff0, 0x10)).toBeUndefined();
    expect(forward32(0x7fff_ffff, 0)).toBe(0x7fff_ffff);
    expect(forward32(0x8000_0000, 0)).toBeUndefined(); // exactly half: ambiguous, not ahead
  });
});
