import { describe, expect, test } from "bun:test";
import { deserializeLegacy, serializeLegacy } from "../../src/protocol/legacy.ts";
import { ProtocolError } from "../../src/protocol/protocol-error.ts";
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";

describe("legacy datagram codec", () => {
  test("golden bytes: marker then payload", () => {
    expect([...serializeLegacy({ last: false, payload: Uint8Array.of(0xff, 0xd8, 0xff) })]).toEqual([0x00, 0xff, 0xd8, 0xff]);
    expect([...serializeLegacy({ last: true, payload: Uint8Array.of(0xff, 0xd9) })]).toEqual([0x01, 0xff, 0xd9]);
    expect([...serializeLegacy({ last: true, payload: new Uint8Array(0) })]).toEqual([0x01]);
  });

  test("round trip", () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const parsed = deserializeLegacy(serializeLegacy({ last: true, payload }));
    expect(parsed.last).toBe(true);
    expect([...parsed.payload]).toEqual([...payload]);
  });

  test("rejects empty, bad marker and oversized datagrams with a typed error", () => {
    expect(() => deserializeLegacy(new Uint8Array(0))).toThrow(ProtocolError);
    expect(() => deserializeLegacy(Uint8Array.of(0x02, 1, 2))).toThrow("legacy marker must be 0x00 or 0x01, got 0x02");
    expect(() => deserializeLegacy(new Uint8Array(65502))).toThrow("exceeds 65501");
    const error = (() => {
      try {
        deserializeLegacy(Uint8Array.of(0x7f));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("bad-marker");
  });
});

describe("legacy packetizer", () => {
  test("slices of 65500 bytes, 0x01 only on the last", () => {
    const jpeg = new Uint8Array(65500 * 2 + 10).fill(7);
    const datagrams = packetizeLegacy(jpeg);
    expect(datagrams.map((d) => d.length)).toEqual([65501, 65501, 11]);
    expect(datagrams.map((d) => d[0])).toEqual([0, 0, 1]);
  });

  test("a frame that is a multiple of 65500 ends with a header-only 0x01 datagram", () => {
    const datagrams = packetizeLegacy(new Uint8Array(65500 * 2).fill(3));
    expect(datagrams.map((d) => d.length)).toEqual([65501, 65501, 1]);
    expect(datagrams.map((d) => d[0])).toEqual([0, 0, 1]);
  });

  test("a small frame is one datagram", () => {
    expect(packetizeLegacy(Uint8Array.of(1, 2, 3)).map((d) => [...d])).toEqual([[1, 1, 2, 3]]);
  });
});
