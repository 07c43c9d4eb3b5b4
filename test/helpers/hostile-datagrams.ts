// Seeded generator of hostile datagrams for the fuzz test and `bun run fuzz`:
// everything a stranger on the network might send a receiver.
import { packetizeLegacy } from "../../src/packetizer/legacy-packetizer.ts";
import { AudioPacketizer } from "../../src/packetizer/audio-packetizer.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import { MAX_UDP_PAYLOAD } from "../../src/protocol/udp.ts";
import { seededRandom } from "../../src/util/random.ts";

export type HostileKind =
  | "random bytes"
  | "mutated v2"
  | "mutated legacy"
  | "truncated"
  | "oversized"
  | "forged v2 header"
  | "wrapping frame numbers"
  | "corrupt JPEG in valid v2"
  | "corrupt JPEG in valid legacy"
  | "huge claimed picture"
  | "frames that never complete"
  | "forged sound";

export const HOSTILE_KINDS: readonly HostileKind[] = [
  "random bytes",
  "mutated v2",
  "mutated legacy",
  "truncated",
  "oversized",
  "forged v2 header",
  "wrapping frame numbers",
  "corrupt JPEG in valid v2",
  "corrupt JPEG in valid legacy",
  "huge claimed picture",
  "frames that never complete",
  "forged sound",
];

/** How often each kind is picked: single-datagram kinds often, whole-frame kinds (tens of datagrams each) seldom. */
const WEIGHTS: Record<HostileKind, number> = {
  "random bytes": 30,
  "mutated v2": 4,
  "mutated legacy": 6,
  truncated: 12,
  oversized: 4,
  "forged v2 header": 20,
  "wrapping frame numbers": 1,
  "corrupt JPEG in valid v2": 4,
  "corrupt JPEG in valid legacy": 6,
  "huge claimed picture": 3,
  "frames that never complete": 1,
  "forged sound": 3,
};

export interface HostileDatagram {
  kind: HostileKind;
  bytes: Uint8Array;
}

/**
 * An endless, reproducible stream of hostile datagrams. `sampleJpeg` is a
 * real JPEG to damage, so corrupt frames get past the structure checks and
 * reach the decoder.
 */
export function* hostileDatagrams(seed: number, sampleJpeg: Uint8Array, maxSize = MAX_UDP_PAYLOAD): Generator<HostileDatagram> {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const pick = <T>(items: readonly T[]) => items[int(items.length)]!;
  const totalWeight = HOSTILE_KINDS.reduce((sum, k) => sum + WEIGHTS[k], 0);
  const pickKind = () => {
    let r = random() * totalWeight;
    for (const k of HOSTILE_KINDS) if ((r -= WEIGHTS[k]) < 0) return k;
    return HOSTILE_KINDS[0]!;
  };
  const streamId = () => (random() < 0.5 ? 0x5eed : int(2 ** 32));
  const frameNumber = () => pick([0, 1, int(2 ** 32), 0xffffffff, 0xfffffffe, int(1_000_000), 0x80000000]);
  const validV2 = (jpeg: Uint8Array, fec = pick([0, 25, 100])) =>
    packetizeV2(jpeg, { streamId: streamId(), frameNumber: frameNumber(), captureTimeUs: int(2 ** 32) }, { datagramSize: pick([200, 1400, 1400, 9000]), fecPercent: fec });
  const mutate = (datagram: Uint8Array) => {
    const out = new Uint8Array(datagram);
    for (let i = 0, n = 1 + int(8); i < n && out.length > 0; i++) {
      const at = random() < 0.6 ? int(Math.min(out.length, 24)) : int(out.length);
      out[at] = random() < 0.5 ? out[at]! ^ (1 << int(8)) : pick([0x00, 0x01, 0xff, 0x7f, 0x80, int(256)]);
    }
    return out;
  };
  const damagedJpeg = () => {
    const jpeg = new Uint8Array(sampleJpeg);
    for (let i = 0, n = 1 + int(20); i < n; i++) jpeg[2 + int(jpeg.length - 4)] = int(256);
    if (random() < 0.3) return jpeg.subarray(0, 2 + int(jpeg.length - 2)); // cut short
    return jpeg;
  };

  let hugeFrames = 0;
  // Large frames of which all but the last chunk arrive: what fills a receiver's memory, if anything can.
  const bulky = new Uint8Array(6_000_000).fill(0x5a);
  let bulkyFrames = 0;
  bulky.set([0xff, 0xd8, 0xff]);
  for (;;) {
    const kind = pickKind();
    switch (kind) {
      case "random bytes":
        yield { kind, bytes: bytes(random() < 0.9 ? int(1500) : int(maxSize + 1)) };
        break;
      case "mutated v2":
        for (const d of validV2(sampleJpeg)) yield { kind, bytes: random() < 0.3 ? mutate(d) : d };
        break;
      case "mutated legacy":
        for (const d of packetizeLegacy(sampleJpeg)) yield { kind, bytes: mutate(d) };
        break;
      case "truncated": {
        const d = pick(validV2(sampleJpeg));
        yield { kind, bytes: d.subarray(0, int(d.length)) };
        break;
      }
      case "oversized": {
        const d = pick(validV2(sampleJpeg));
        const big = new Uint8Array(Math.min(maxSize, d.length + 1 + int(maxSize)));
        big.set(d);
        yield { kind, bytes: big };
        break;
      }
      case "forged v2 header": {
        // Headers that claim the most: 65535 chunks, 16 MiB frames, 255 groups of 255 parity, END with a payload.
        const d = new Uint8Array(24 + int(64));
        d.set([0x56, 2, pick([0, 1, 2, 4, 5, 8, 0xff]), pick([0, 1, 255])]);
        const view = new DataView(d.buffer);
        view.setUint32(4, streamId());
        view.setUint32(8, frameNumber());
        view.setUint16(12, pick([0, 1, 0xfffe, 0xffff, int(65536)]));
        view.setUint16(14, pick([0, 1, 0xffff, int(65536)]));
        d[16] = pick([0, 1, 255]);
        view.setUint16(17, int(65536));
        d[19] = pick([0, 0xff]);
        yield { kind, bytes: d };
        break;
      }
      case "wrapping frame numbers": {
        const id = streamId();
        const start = 0xffffffff - int(4);
        for (let n = 0; n < 4; n++) {
          const frame = (start + n) >>> 0;
          for (const d of packetizeV2(sampleJpeg, { streamId: id, frameNumber: frame, captureTimeUs: n * 33_333 }, { datagramSize: 1400, fecPercent: 25 })) yield { kind, bytes: d };
        }
        if (random() < 0.5) yield { kind, bytes: endOfStreamDatagram(id, (start + 4) >>> 0, 0) };
        break;
      }
      case "forged sound": {
        // Valid sound datagrams with the largest groups and payloads a header allows, some mutated or cut short.
        const packetizer = new AudioPacketizer({ streamId: streamId(), channels: pick([1, 2] as const), groupData: 1 + int(15), groupParity: int(16) });
        for (let n = 0; n < 1 + int(8); n++) {
          const data = bytes(1 + (random() < 0.9 ? int(400) : int(60_000)));
          for (const d of packetizer.packetize({ data, captureTimeUs: int(2 ** 32), durationSamples: 960 })) {
            yield { kind, bytes: random() < 0.2 ? mutate(d) : random() < 0.1 ? d.subarray(0, int(d.length)) : d };
          }
        }
        break;
      }
      case "frames that never complete": {
        const frame = { streamId: 0x5eed, frameNumber: 0x6000_0000 + bulkyFrames++, captureTimeUs: 0 };
        const datagrams = packetizeV2(bulky, frame, { datagramSize: 60_000, fecPercent: 0 });
        for (const d of datagrams.slice(0, -1)) yield { kind, bytes: d };
        break;
      }
      case "corrupt JPEG in valid v2":
        for (const d of validV2(damagedJpeg())) yield { kind, bytes: d };
        break;
      case "corrupt JPEG in valid legacy":
        for (const d of packetizeLegacy(damagedJpeg())) yield { kind, bytes: d };
        break;
      case "huge claimed picture": {
        const jpeg = new Uint8Array(sampleJpeg);
        const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc0);
        if (sof > 0) jpeg.set([0xea, 0x60, 0xea, 0x60], sof + 5); // 60000 x 60000
        // On the one recurring stream, always newer: these frames complete and reach the decoder.
        const frame = { streamId: 0x5eed, frameNumber: 0x4000_0000 + hugeFrames++, captureTimeUs: 0 };
        for (const d of packetizeV2(jpeg, frame, { datagramSize: 1400, fecPercent: 0 })) yield { kind, bytes: d };
        break;
      }
    }
  }
}
