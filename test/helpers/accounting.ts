import { expect } from "bun:test";
import { decodeFrames, matchFrames, type SourceClip } from "./frames.ts";

// A paced sender skips a frame it is too late for, and a receiver skips a
// frame that a newer one overtook while it was decoding: on a busy machine
// both are the product working as designed. So where the test does not
// control the pace, it checks that every frame is accounted for, each by the
// side that did it, instead of demanding that every frame be shown.

/** What a sender says it did with the frames of its source. */
export interface SentCounts {
  frames: number;
  framesSkipped: number;
  /** Left out unencoded: rate adaptation lowered the frame rate (at the start, until the path is known, too). */
  framesSkippedForRate?: number;
}

/** What a receiver says became of the frames that reached it. */
export interface ReceivedCounts {
  framesShown: number;
  framesSkipped: number;
  framesDroppedIncomplete: number;
  framesCorrupt: number;
}

/** The sender went through all `total` frames of its source: each one sent, skipped to keep up or left out to fit the rate. Returns how many it sent. */
export function expectSenderAccounted(sent: SentCounts, total: number): number {
  expect(sent.frames + sent.framesSkipped + (sent.framesSkippedForRate ?? 0)).toBe(total);
  expect(sent.frames).toBeGreaterThan(0);
  return sent.frames;
}

/** Every frame sent reached the receiver and was shown, skipped (overtaken by a newer one) or dropped incomplete; none corrupt, at least one shown. */
export function expectReceiverAccounted(received: ReceivedCounts, sent: number): void {
  expect(received.framesCorrupt).toBe(0);
  expect(received.framesShown + received.framesSkipped + received.framesDroppedIncomplete).toBe(sent);
  expect(received.framesShown).toBeGreaterThan(0);
}

/** Both ends of one stream over a path that loses nothing (loopback): every source frame accounted for. */
export function expectEveryFrameAccounted(sent: SentCounts, received: ReceivedCounts, total: number): void {
  expectReceiverAccounted(received, expectSenderAccounted(sent, total));
}

/** Indices that only ever increase: frames shown in the order they were sent, none twice. */
export function expectIncreasing(indices: number[]): void {
  for (let i = 1; i < indices.length; i++) expect(indices[i]!).toBeGreaterThan(indices[i - 1]!);
}

/** The counts in a send summary, "Sent N frames … [; K frames skipped to keep up]" [and "…; R frames left out to fit"], as a person reads them. */
export function sentCountsFromText(text: string): SentCounts {
  const line = /Sent (\d+) frames[^\n]*/.exec(text);
  if (!line) throw new Error(`no "Sent N frames" line in: ${text}`);
  const skipped = /; (\d+) frames skipped to keep up/.exec(line[0]);
  const forRate = /; (\d+) frames left out to fit/.exec(text);
  return { frames: Number(line[1]), framesSkipped: Number(skipped?.[1] ?? 0), framesSkippedForRate: Number(forRate?.[1] ?? 0) };
}

/** The counts in a receive summary line, "Received … N shown (…), K skipped, D dropped incomplete, C corrupt". */
export function receivedCountsFromText(text: string): ReceivedCounts {
  const match = /Received \d+ frames[^\n]*?(\d+) shown \([^)]*\), (\d+) skipped, (\d+) dropped incomplete, (\d+) corrupt/.exec(text);
  if (!match) throw new Error(`no "Received … shown … corrupt" line in: ${text}`);
  return { framesShown: Number(match[1]), framesSkipped: Number(match[2]), framesDroppedIncomplete: Number(match[3]), framesCorrupt: Number(match[4]) };
}

/**
 * A receiver's --record file against its source: one recorded picture per
 * frame it says it showed, each matching a source frame (PSNR > 30), in the
 * order they were sent, none twice.
 */
export function expectRecordingMatchesSource(record: string, source: SourceClip, width: number, height: number, framesShown: number): void {
  const matches = matchFrames(decodeFrames(record, width, height, "mjpeg"), source.frames);
  expect(matches).toHaveLength(framesShown);
  for (const m of matches) expect(m.psnr).toBeGreaterThan(30);
  expectIncreasing(matches.map((m) => m.sourceIndex));
}
