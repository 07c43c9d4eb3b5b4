import { expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "../../src/util/atomic-file.ts";
import { tempDir } from "../helpers/frames.ts";

test("writes the whole text, replacing an older file, and leaves nothing else behind", () => {
  const dir = tempDir();
  const path = join(dir, "stream.sdp");
  writeFileSync(path, "old");
  writeFileAtomically(path, "v=0\n");
  expect(readFileSync(path, "utf8")).toBe("v=0\n");
  expect(readdirSync(dir)).toEqual(["stream.sdp"]);
});

test("a path that cannot be written throws and leaves no temporary file", () => {
  const dir = tempDir();
  expect(() => writeFileAtomically(join(dir, "missing", "x.sdp"), "v=0\n")).toThrow(/ENOENT/);
  expect(readdirSync(dir)).toEqual([]);
});
