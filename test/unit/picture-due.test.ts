import { describe, expect, test } from "bun:test";
import { pictureDueMs } from "../../src/session/picture-due.ts";

describe("pictureDueMs", () => {
  test("a frame goes when its sound is heard as queued, else where the clock has it, handed over the drawing's time earlier", () => {
    expect(pictureDueMs({ heardMs: 1000, playoutMs: 990, startPending: false }, 900, 6)).toBe(994);
    expect(pictureDueMs({ heardMs: undefined, playoutMs: 990, startPending: false }, 900, 6)).toBe(984);
    // No sound at all yet: at once.
    expect(pictureDueMs({ heardMs: undefined, playoutMs: undefined, startPending: false }, 900, 6)).toBeUndefined();
  });

  test("while the sound is about to start, a frame whose time has come waits for it, asked again shortly; at most 300 ms past its time", () => {
    const pending = (playoutMs: number, nowMs: number) => pictureDueMs({ heardMs: undefined, playoutMs, startPending: true }, nowMs, 6);
    // Not due yet: its time as usual.
    expect(pending(1000, 900)).toBe(994);
    // Due, or past: not yet, asked again 5 ms on (shown by the clock, it was seen before its beep was queued).
    expect(pending(1000, 998)).toBe(1003);
    expect(pending(1000, 1200)).toBe(1205);
    // A sound that does not start in 300 ms is not waited for: past its time, so at once.
    expect(pending(1000, 1300)).toBe(994);
    // Once the sound is queued, it goes with it, pending or not.
    expect(pictureDueMs({ heardMs: 1010, playoutMs: 1000, startPending: true }, 1005, 6)).toBe(1004);
  });
});
