import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extractPart, unpacked } from "../../src/native/native-cache.ts";

const dir = mkdtempSync(join(tmpdir(), "udpvid-native-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes that compress, as a program's do, and differ from any other test's. */
function programLike(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i % 251 < 200 ? i % 7 : (i * 31 + seed) >>> 3) & 0xff;
  return bytes;
}

function stored(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("unpacked: an embedded file's bytes as they go to the cache", () => {
  test("a compressed file comes back byte for byte, and its stored form is smaller", () => {
    const original = programLike(300_000, 1);
    const path = stored("a.zst", Bun.zstdCompressSync(original, { level: 9 }));
    expect(statSync(path).size).toBeLessThan(original.length / 3);
    expect(Buffer.from(unpacked({ path, name: "ffmpeg/ffmpeg", compressed: { size: original.length } })).equals(Buffer.from(original))).toBe(true);
  });

  test("a file stored as it is comes back as it is", () => {
    const original = programLike(5_000, 2);
    const path = stored("plain", original);
    expect(Buffer.from(unpacked({ path, name: "sdl/sdl.node" })).equals(Buffer.from(original))).toBe(true);
  });

  test("damaged compressed bytes give one clear line naming the file, not a crash or a bad file", () => {
    const compressed = Bun.zstdCompressSync(programLike(300_000, 3), { level: 9 });
    const path = stored("damaged.zst", compressed.subarray(0, compressed.length >> 1));
    expect(() => unpacked({ path, name: "ffmpeg/ffmpeg", compressed: { size: 300_000 } })).toThrow(/embedded ffmpeg\/ffmpeg is damaged.*download the binary again/);
    const garbage = stored("garbage.zst", programLike(1000, 4));
    expect(() => unpacked({ path: garbage, name: "ffmpeg/ffmpeg", compressed: { size: 1000 } })).toThrow(/damaged/);
  });

  test("a compressed file that unpacks to another size than recorded is refused", () => {
    const path = stored("short.zst", Bun.zstdCompressSync(programLike(10_000, 5)));
    expect(() => unpacked({ path, name: "lib/libvips-cpp.so", compressed: { size: 10_001 } })).toThrow(/unpacked to 10000 bytes, not 10001/);
  });
});

test("extractPart writes a compressed part's files unpacked (and executable where marked), once", () => {
  const program = programLike(200_000, 6);
  const path = stored("ffmpeg.zst", Bun.zstdCompressSync(program, { level: 9 }));
  const root = join(dir, "cache");
  const part = { hash: "0123456789abcdef", entry: "ffmpeg/ffmpeg", files: [{ path, name: "ffmpeg/ffmpeg", executable: true, compressed: { size: program.length } }] };
  const folder = extractPart(part, { version: "test", partName: "ffmpeg", roots: [root] });
  const written = join(folder, "ffmpeg", "ffmpeg");
  expect(Buffer.from(readFileSync(written)).equals(Buffer.from(program))).toBe(true);
  if (process.platform !== "win32") expect(statSync(written).mode & 0o111).not.toBe(0);
  // A second run finds it there (.complete) and does not read the embedded copy again.
  rmSync(path);
  expect(extractPart(part, { version: "test", partName: "ffmpeg", roots: [root] })).toBe(folder);
});
