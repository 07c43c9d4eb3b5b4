import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeFifo } from "../../src/native/fifo.ts";

test("makeFifo makes a FIFO only its user may use, and refuses a path that is taken or has no folder", () => {
  const dir = mkdtempSync(join(tmpdir(), "udpvid-fifo-"));
  try {
    const path = join(dir, "frames");
    makeFifo(path);
    const made = statSync(path);
    expect(made.isFIFO()).toBe(true);
    expect(made.mode & 0o777).toBe(0o600);
    expect(() => makeFifo(path)).toThrow("mkfifo");
    expect(() => makeFifo(join(dir, "missing", "frames"))).toThrow("mkfifo");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
