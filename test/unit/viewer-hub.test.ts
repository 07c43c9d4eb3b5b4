import { describe, expect, test } from "bun:test";
import { CLOSE_STALLED, MAX_IN_FLIGHT, STALLED_AFTER_MS, ViewerHub, type ViewerSocket } from "../../src/web/viewer-hub.ts";
import { decodePicture, decodeSound } from "../../src/web/web-messages.ts";

/** A socket that takes what is sent until told it is full; `take()` empties it as a reading page would. */
class FakeSocket implements ViewerSocket {
  readonly sent: (Uint8Array | string)[] = [];
  buffered = 0;
  full = false;
  closed: { code: number; reason: string } | undefined;
  send(data: Uint8Array | string): number {
    this.sent.push(data);
    const bytes = typeof data === "string" ? data.length : data.length;
    if (this.full) {
      this.buffered += bytes;
      return -1;
    }
    return bytes;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  take(): void {
    this.full = false;
    this.buffered = 0;
  }
  get pictures() {
    return this.sent.filter((m): m is Uint8Array => typeof m !== "string").map((m) => decodePicture(m)!);
  }
  get texts() {
    return this.sent.filter((m): m is string => typeof m === "string").map((m) => JSON.parse(m));
  }
}

const jpeg = (n: number) => Uint8Array.of(0xff, 0xd8, n, 0xff, 0xd9);

/** The page says it got every picture sent to it so far, as a reading page does as each arrives. */
function gotAll(hub: ViewerHub, id: number, socket: FakeSocket, nowMs: number): void {
  const last = socket.pictures.at(-1);
  if (last) hub.message(id, JSON.stringify({ type: "got", frame: last.frameNumber }), nowMs);
}

describe("ViewerHub", () => {
  test("every viewer gets each frame, as it arrived, with its capture time and age", () => {
    const hub = new ViewerHub(10);
    const a = new FakeSocket();
    const b = new FakeSocket();
    hub.join(a);
    hub.join(b);
    hub.picture({ jpeg: jpeg(1), captureUs: 1000, ageUs: 25_000 }, 100);
    for (const socket of [a, b]) {
      expect(socket.pictures).toHaveLength(1);
      expect([...socket.pictures[0]!.jpeg]).toEqual([...jpeg(1)]);
      expect(socket.pictures[0]).toMatchObject({ frameNumber: 0, captureUs: 1000, ageUs: 25_000, sentAtMs: 100 });
    }
  });

  test("a viewer still taking a frame gets only the newest of the ones after it, when it has taken it; the others are not held up", () => {
    const hub = new ViewerHub(10);
    const slow = new FakeSocket();
    const quick = new FakeSocket();
    const slowId = hub.join(slow)!;
    const quickId = hub.join(quick)!;
    slow.full = true;
    for (let n = 0; n < 5; n++) {
      hub.picture({ jpeg: jpeg(n), captureUs: n, ageUs: 0 }, n);
      gotAll(hub, quickId, quick, n);
    }
    expect(quick.pictures.map((p) => p.frameNumber)).toEqual([0, 1, 2, 3, 4]);
    // The first went into the full socket; the rest wait, one at a time.
    expect(slow.pictures.map((p) => p.frameNumber)).toEqual([0]);
    slow.take();
    gotAll(hub, slowId, slow, 10);
    hub.drained(slowId, 10);
    expect(slow.pictures.map((p) => p.frameNumber)).toEqual([0, 4]);
    expect(hub.stats().viewers.find((v) => v.id === slowId)).toMatchObject({ framesSent: 2, framesSkipped: 3 });
  });

  test("a viewer that takes nothing for the bound is dropped; the others keep getting frames", () => {
    const hub = new ViewerHub(10);
    const stalled = new FakeSocket();
    const reading = new FakeSocket();
    hub.join(stalled);
    const readingId = hub.join(reading)!;
    stalled.full = true;
    let now = 0;
    for (; now <= STALLED_AFTER_MS + 100; now += 33) {
      hub.picture({ jpeg: jpeg(now & 0xff), captureUs: now, ageUs: 0 }, now);
      gotAll(hub, readingId, reading, now);
      hub.tick(now);
    }
    expect(stalled.closed?.code).toBe(CLOSE_STALLED);
    expect(reading.closed).toBeUndefined();
    expect(reading.pictures.length).toBeGreaterThan(150);
    // It held at most one frame's worth beyond the one in its socket.
    expect(stalled.pictures).toHaveLength(1);
    expect(hub.stats()).toMatchObject({ viewersNow: 1, droppedStalled: 1 });
    expect(hub.stats().viewers[0]).toMatchObject({ connected: false, droppedAsStalled: true });
  });

  test("a viewer whose socket takes everything but who says it got nothing has at most MAX_IN_FLIGHT frames sent, then the newest waits", () => {
    const hub = new ViewerHub(10);
    const socket = new FakeSocket();
    const id = hub.join(socket)!;
    for (let n = 0; n < 10; n++) hub.picture({ jpeg: jpeg(n), captureUs: n, ageUs: 0 }, n);
    expect(socket.pictures.map((p) => p.frameNumber)).toEqual([...Array(MAX_IN_FLIGHT).keys()]);
    // It says it got the first: the newest goes.
    hub.message(id, JSON.stringify({ type: "got", frame: 0 }), 20);
    expect(socket.pictures.map((p) => p.frameNumber)).toEqual([0, 1, 9]);
    // Nothing more to send; a got for all clears it, and it is not stalled however long the stream pauses.
    hub.message(id, JSON.stringify({ type: "got", frame: 9 }), 21);
    hub.tick(21 + STALLED_AFTER_MS * 2);
    expect(socket.closed).toBeUndefined();
  });

  test("a viewer that never says it got anything is dropped after the bound, even with room in its socket", () => {
    const hub = new ViewerHub(10);
    const socket = new FakeSocket();
    hub.join(socket);
    for (let now = 0; now <= STALLED_AFTER_MS + 100; now += 33) {
      hub.picture({ jpeg: jpeg(1), captureUs: now, ageUs: 0 }, now);
      hub.tick(now);
    }
    expect(socket.closed?.code).toBe(CLOSE_STALLED);
  });

  test("no more than the maximum at once; one who leaves makes room", () => {
    const hub = new ViewerHub(2);
    const ids = [hub.join(new FakeSocket()), hub.join(new FakeSocket())];
    expect(hub.hasRoom).toBe(false);
    const refused = new FakeSocket();
    expect(hub.join(refused)).toBeUndefined();
    expect(refused.closed?.code).toBe(1013);
    hub.left(ids[0]!);
    expect(hub.join(new FakeSocket())).toBeDefined();
    expect(hub.stats()).toMatchObject({ viewersNow: 2, viewersJoined: 3, refusedFull: 1 });
  });

  test("a viewer's reports give its capture → drawn latency; malformed ones are counted and dropped", () => {
    const hub = new ViewerHub(10);
    const socket = new FakeSocket();
    const id = hub.join(socket)!;
    hub.picture({ jpeg: jpeg(1), captureUs: 5, ageUs: 30_000 }, 1000);
    hub.message(id, JSON.stringify({ type: "drawn", frame: 0, sentAtMs: 1000, heldMs: 10 }), 1030);
    hub.message(id, "garbage", 1031);
    hub.message(id, new Uint8Array(8), 1031);
    const stats = hub.stats();
    // 30 ms old when sent, 20 ms there and back (10 each way), 10 held.
    expect(stats.viewers[0]!.latencyMs).toEqual({ p50: 50, p95: 50, p99: 50 });
    expect(stats.reportsRefused).toBe(2);
  });

  test("a report for a frame it was never sent, or a second report for one, adds nothing", () => {
    const hub = new ViewerHub(10);
    const id = hub.join(new FakeSocket())!;
    hub.picture({ jpeg: jpeg(1), captureUs: 5, ageUs: 30_000 }, 1000);
    hub.message(id, JSON.stringify({ type: "drawn", frame: 99, sentAtMs: 1000, heldMs: 10 }), 1030);
    hub.message(id, JSON.stringify({ type: "drawn", frame: 0, sentAtMs: 1000, heldMs: 10 }), 1030);
    hub.message(id, JSON.stringify({ type: "drawn", frame: 0, sentAtMs: 1000, heldMs: 10 }), 1030);
    expect(hub.stats().viewers[0]!.latencyMs!.p50).toBe(50);
    expect(hub.stats().reportsRefused).toBe(0);
  });

  test("the stream's state reaches viewers who join later; stats skip a viewer behind on pictures", () => {
    const hub = new ViewerHub(10);
    const early = new FakeSocket();
    hub.join(early);
    hub.say({ type: "state", state: "receiving" });
    const late = new FakeSocket();
    hub.join(late);
    expect(late.texts).toEqual([{ type: "state", state: "receiving" }]);
    early.full = true;
    hub.picture({ jpeg: jpeg(1), captureUs: 1, ageUs: 0 }, 0);
    hub.say({ type: "stats", fps: 30 });
    expect(early.texts.filter((t) => t.type === "stats")).toHaveLength(0);
    expect(late.texts.filter((t) => t.type === "stats")).toHaveLength(1);
  });

  test("memory stays bounded however many frames and viewers come and go", () => {
    const hub = new ViewerHub(5);
    for (let round = 0; round < 200; round++) {
      const id = hub.join(new FakeSocket())!;
      hub.picture({ jpeg: jpeg(round & 0xff), captureUs: round, ageUs: 1 }, round);
      hub.left(id);
    }
    expect(hub.stats().viewers.length).toBeLessThanOrEqual(64);
    expect(hub.stats().viewersJoined).toBe(200);
  });

  test("closing tells every viewer and lets them go", () => {
    const hub = new ViewerHub(10);
    const a = new FakeSocket();
    hub.join(a);
    hub.closeAll();
    expect(a.closed?.code).toBe(1001);
    expect(hub.viewerCount).toBe(0);
  });
});

describe("ViewerHub's sound", () => {
  const packet = (sequence: number) => ({ sequence, channels: 2, captureUs: sequence * 20_000, samples: new Float32Array(1920) });

  test("every packet goes to every viewer, even one whose pictures are waiting on acknowledgements", () => {
    const hub = new ViewerHub(10);
    const a = new FakeSocket();
    hub.join(a);
    for (let n = 0; n < 5; n++) hub.picture({ jpeg: jpeg(n), captureUs: n, ageUs: 0 }, n);
    for (let n = 0; n < 10; n++) hub.sound(packet(n));
    const sounds = a.sent.filter((m): m is Uint8Array => typeof m !== "string" && m[0] === 0x02).map((m) => decodeSound(m)!);
    expect(sounds.map((s) => s.sequence)).toEqual([...Array(10).keys()]);
    expect(hub.stats().viewers[0]).toMatchObject({ soundPacketsSent: 10, soundPacketsDropped: 0 });
  });

  test("a viewer whose socket is backed up gets none (counted): sound behind it would play late", () => {
    const hub = new ViewerHub(10);
    const a = new FakeSocket();
    hub.join(a);
    a.buffered = 1024 * 1024;
    hub.sound(packet(1));
    expect(a.sent).toHaveLength(0);
    expect(hub.stats().viewers[0]).toMatchObject({ soundPacketsSent: 0, soundPacketsDropped: 1 });
  });
});
