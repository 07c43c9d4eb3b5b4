import { expect, test } from "bun:test";
import { TimerLateness } from "../../src/commands/present-timer.ts";

test("TimerLateness: aims early by the median lateness lately, none before any, never early, at most 8 ms", () => {
  const lateness = new TimerLateness();
  expect(lateness.earlyMs).toBe(0);
  for (const late of [10, 12, 11, 30, 9]) lateness.add(100, 100 + late);
  expect(lateness.earlyMs).toBe(8);
  const quiet = new TimerLateness();
  for (const late of [1, 2, 1.5, 40, 2]) quiet.add(100, 100 + late);
  // One stall does not move it: the median.
  expect(quiet.earlyMs).toBe(2);
  // A timer that fired before its time counts as on time.
  const early = new TimerLateness();
  for (let i = 0; i < 5; i++) early.add(100, 97);
  expect(early.earlyMs).toBe(0);
  // Only the last 20 count: a start that was late is forgotten.
  for (let i = 0; i < 20; i++) lateness.add(100, 101);
  expect(lateness.earlyMs).toBe(1);
});
