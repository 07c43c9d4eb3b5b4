import { describe, expect, test } from "bun:test";
import type { RgbaImage } from "../../src/decoder/jpeg-decoder.ts";
import type { Picture } from "../../src/decoder/picture.ts";
import { endOfStreamDatagram, packetizeV2 } from "../../src/packetizer/v2-packetizer.ts";
import type { AssembledFrame } from "../../src/reassembler/stream-assembler.ts";
import { ENDED_AFTER_SILENCE_MS, ReceiveSession } from "../../src/session/receive-session.ts";
import { encodeJpeg } from "../../src/encoder/jpeg-encoder.ts";

// The receiver's state without a socket or a window: datagrams in with a fake
// clock, a stand-in decoder that reads the frame's first byte as its picture.

const jpegLike = (length: number, seed: number) => {
  const bytes = Uint8Array.from({ length }, (_, i) => (seed + i) % 0xfe);
  bytes.set([0xff, 0xd8, 0xff], 0);
  bytes.set([0xff, 0xd9], length - 2);
  bytes[3] = seed;
  return bytes;
};

function harness(
  options: { corruptSeeds?: number[]; returnPath?: boolean; pictureClock?: ConstructorParameters<typeof ReceiveSession>[0]["pictureClock"]; prepare?: (image: Picture) => void } = {},
) {
  let now = 0;
  const shown: number[] = [];
  let ended = 0;
  const session = new ReceiveSession(
    {
      maxMemoryBytes: 8 << 20,
      maxPixels: 1 << 20,
      decode: async (jpeg) => {
        if (options.corruptSeeds?.includes(jpeg[3]!)) throw new Error("corrupt");
        return { width: 1, height: 1, rgba: Uint8Array.of(jpeg[3]!, 0, 0, 255) } satisfies RgbaImage;
      },
      returnPath: options.returnPath ? {} : undefined,
      pictureClock: options.pictureClock,
    },
    { show: (_frame: AssembledFrame, image: RgbaImage) => shown.push(image.rgba[0]!), prepare: options.prepare, ended: () => ended++ },
    { nowMs: () => now, wallClockUs: () => now * 1000 },
  );
  const frame = (n: number, streamId = 7) =>
    packetizeV2(jpegLike(3000, n), { streamId, frameNumber: n, captureTimeUs: n * 33_000 }, { datagramSize: 500, fecPercent: 0 });
  return {
    session,
    shown,
    ended: () => ended,
    at: (ms: number) => (now = ms),
    feed: (datagrams: Uint8Array[], source = "10.0.0.1") => datagrams.map((d) => session.receive(d, source, now)),
    frame,
  };
}

describe("ReceiveSession", () => {
  test("the readout's JPEG quality is the shown frame's, and follows it when rate control moves it", async () => {
    const h = harness();
    const picture = new Uint8Array(32 * 32 * 3).map((_, i) => (i * 29) % 253);
    const send = async (n: number, quality: number) => {
      h.at(n * 40);
      h.feed(packetizeV2(await encodeJpeg(picture, 32, 32, quality), { streamId: 7, frameNumber: n, captureTimeUs: n * 40_000 }, { datagramSize: 1400, fecPercent: 0 }));
      await h.session.idle();
    };
    expect(h.session.readout(0, 1, false).quality).toBeUndefined(); // nothing shown yet
    await send(0, 80);
    await send(1, 80);
    expect(h.shown).toHaveLength(2);
    expect(h.session.readout(80, 1, false).quality).toBe(80);
    await send(2, 35);
    expect(h.session.readout(120, 1, false).quality).toBe(35);
    h.feed(h.frame(3)); // not a JPEG's tables: no quality to say
    await h.session.idle();
    expect(h.shown).toHaveLength(4);
    expect(h.session.readout(160, 1, false).quality).toBeUndefined();
  });

  test("with a picture clock (sound playing), each frame is shown at its time, not when decoded; latency counts the wait", async () => {
    // Frames are due 60 ms after their capture (as the sound's playout would have it).
    const h = harness({ pictureClock: { frameReady: () => {}, dueMs: (captureUs) => captureUs / 1000 + 60 } });
    h.at(10);
    h.feed(h.frame(0));
    await h.session.idle();
    expect(h.shown).toEqual([]); // decoded, waiting
    expect(h.session.nextPresentMs(10)).toBe(60);
    h.at(59);
    h.session.present(59);
    expect(h.shown).toEqual([]);
    h.at(60);
    h.session.present(60);
    expect(h.shown).toEqual([0]);
    expect(h.session.counts().latencyMs!.p50).toBe(60);
    expect(h.session.presenterStats()).toMatchObject({ held: 1, offsetMs: { p50: 0 } });
  });

  test("a frame whose time has come is shown by the next datagram, timer or not (a busy event loop fires timers late)", async () => {
    const h = harness({ pictureClock: { frameReady: () => {}, dueMs: (captureUs) => captureUs / 1000 + 60 } });
    h.at(10);
    h.feed(h.frame(0));
    await h.session.idle();
    h.at(55);
    h.feed(h.frame(1).slice(0, 1)); // a datagram before frame 0's time: it still waits
    expect(h.shown).toEqual([]);
    h.at(61);
    h.feed(h.frame(1).slice(1, 2)); // one after it: shown then, no present() called
    expect(h.shown).toEqual([0]);
    expect(h.session.presenterStats()).toMatchObject({ held: 1, offsetMs: { p50: 1 } });
  });

  test("a decoded frame is prepared for (a window's first draw) before it counts as ready: the time that takes is the picture's", async () => {
    const ready: number[] = [];
    let clock = 0;
    const h = harness({
      pictureClock: { frameReady: (_captureUs, nowMs) => ready.push(nowMs), dueMs: (captureUs) => captureUs / 1000 + 200 },
      // The window's first draw at the stream's size takes 70 ms.
      prepare: () => h.at((clock += 70)),
    });
    h.at((clock = 10));
    h.feed(h.frame(0));
    await h.session.idle();
    expect(ready).toEqual([80]);
    expect(h.shown).toEqual([]);
  });

  test("frames are assembled, decoded one at a time and shown; the counts add up", async () => {
    const h = harness();
    for (let n = 0; n < 5; n++) {
      h.at(n * 33);
      h.feed(h.frame(n));
      await h.session.idle();
    }
    expect(h.shown).toEqual([0, 1, 2, 3, 4]);
    const counts = h.session.counts();
    expect(counts).toMatchObject({ framesReceived: 5, framesShown: 5, framesSkipped: 0, framesCorrupt: 0, datagramsLost: 0, datagramsRejected: 0 });
    expect(counts.latencyMs).not.toBeNull(); // v2 carries capture times
  });

  test("frames that come out together are shown in order, not replaced; beyond the backlog the oldest are skipped", async () => {
    const h = harness();
    h.feed([...h.frame(0), ...h.frame(1), ...h.frame(2)]); // a burst: 0 decodes, 1 waits, 2 waits its turn
    await h.session.idle();
    expect(h.shown).toEqual([0, 1, 2]);
    expect(h.session.counts()).toMatchObject({ framesReceived: 3, framesShown: 3, framesSkipped: 0 });
    const g = harness();
    g.feed(Array.from({ length: 10 }, (_, n) => g.frame(n)).flat()); // far more than can be caught up with
    await g.session.idle();
    const counts = g.session.counts();
    expect(counts.framesShown + counts.framesSkipped).toBe(10);
    expect(counts.framesSkipped).toBeGreaterThan(0);
    expect(g.shown.at(-1)).toBe(9); // the newest is always shown
    expect(g.shown).toEqual([...g.shown].sort((a, b) => a - b));
  });

  test("a frame that waited too long for the decoder is skipped: decoding that cannot keep up never builds lag", async () => {
    const h = harness();
    h.feed([...h.frame(0), ...h.frame(1), ...h.frame(2)]); // 0 decoding, 1 waiting in the decoder, 2 in the backlog
    h.at(200); // no decode has finished yet: 2 has waited 200 ms
    h.feed(h.frame(3));
    await h.session.idle();
    expect(h.shown).toEqual([0, 1, 3]);
    expect(h.session.counts()).toMatchObject({ framesShown: 3, framesSkipped: 1 });
  });

  test("at the end of a run, frames held for repair are shown and incomplete ones counted: every frame that arrived is accounted for", async () => {
    const h = harness({ returnPath: true });
    h.feed(h.frame(0).slice(1)); // incomplete: waits for a repair that never comes
    h.feed(h.frame(1)); // complete, held behind frame 0
    await h.session.idle();
    expect(h.shown).toEqual([]);
    await h.session.finish();
    expect(h.shown).toEqual([1]);
    expect(h.session.counts()).toMatchObject({ framesShown: 1, framesDroppedIncomplete: 1, framesSkipped: 0 });
  });

  test("a frame that fails to decode is counted corrupt and never shown", async () => {
    const h = harness({ corruptSeeds: [1] });
    for (const n of [0, 1, 2]) {
      h.feed(h.frame(n));
      await h.session.idle();
    }
    expect(h.shown).toEqual([0, 2]);
    expect(h.session.counts().framesCorrupt).toBe(1);
  });

  test("garbage is refused and counted by reason; receive() says so", () => {
    const h = harness();
    expect(h.feed([Uint8Array.of(0x47, 1, 2)])).toEqual([false]);
    expect(h.feed(h.frame(0)).every(Boolean)).toBe(true);
    expect(h.session.counts()).toMatchObject({ datagramsRejected: 1, rejectedByReason: { "unknown-protocol": 1 } });
  });

  test("the readout goes waiting → receiving → ended (end marker, or silence for protocols without one)", async () => {
    const h = harness();
    expect(h.session.readout(0, 9999, false).state).toBe("waiting");
    h.feed(h.frame(0));
    await h.session.idle();
    h.at(500);
    const live = h.session.readout(500, 9999, false);
    expect(live.state).toBe("receiving");
    expect(live.shown).toBe(1);
    h.at(500 + ENDED_AFTER_SILENCE_MS + 1);
    expect(h.session.readout(500 + ENDED_AFTER_SILENCE_MS + 1, 9999, false).state).toBe("ended");
    expect(h.session.silentForMs(500 + ENDED_AFTER_SILENCE_MS + 1)).toBe(500 + ENDED_AFTER_SILENCE_MS + 1); // the last datagram came at 0

    const g = harness();
    g.feed(g.frame(0));
    g.feed([endOfStreamDatagram(7, 1, 0)]);
    expect(g.ended()).toBe(1);
    expect(g.session.readout(1, 9999, false).state).toBe("ended");
    expect(g.session.counts().streamEnded).toBe(true);
  });

  test("loss shows in the readout and the counts", async () => {
    const h = harness();
    h.session.readout(0, 9999, false); // the readout's rates start from here
    h.feed(h.frame(0));
    const second = h.frame(1);
    h.at(100);
    h.feed(second.slice(0, -1)); // its last datagram lost
    h.at(2000);
    h.session.tick(2000); // past the frame deadline: given up
    h.feed(h.frame(2));
    await h.session.idle();
    const counts = h.session.counts();
    expect(counts.framesDroppedIncomplete).toBe(1);
    expect(counts.datagramsLost).toBe(1);
    expect(h.session.readout(2000, 9999, false).lossPercent).toBeGreaterThan(0);
  });

  test("whole frames go to the assembled handler at once, before decoding; one whose header names a size past --max-pixels, or none, does not", async () => {
    /** A JPEG-shaped frame with an SOF0 header of the given size. */
    const withSize = (width: number, height: number, seed: number) => {
      const bytes = jpegLike(3000, seed);
      bytes.set([0xff, 0xc0, 0x00, 0x0b, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x01, 0x01, 0x11, 0x00], 2);
      return bytes;
    };
    const assembled: number[] = [];
    let now = 0;
    const session = new ReceiveSession(
      { maxMemoryBytes: 8 << 20, maxPixels: 1 << 20, decode: () => new Promise<RgbaImage>(() => {}) },
      { show: () => {}, ended: () => {}, assembled: (frame) => assembled.push(frame.frameNumber!) },
      { nowMs: () => now, wallClockUs: () => now * 1000 },
    );
    const send = (jpeg: Uint8Array, n: number) => packetizeV2(jpeg, { streamId: 7, frameNumber: n, captureTimeUs: n * 33_000 }, { datagramSize: 500, fecPercent: 0 }).forEach((d) => session.receive(d, "10.0.0.1", now));
    send(withSize(640, 360, 1), 0);
    send(withSize(8192, 8192, 2), 1); // past 1 << 20 pixels
    send(jpegLike(3000, 3), 2); // no size in its header
    send(withSize(1024, 1024, 4), 3); // exactly 1 << 20
    // The decoder never finishes: these came before any decoding.
    expect(assembled).toEqual([0, 3]);
  });
});
