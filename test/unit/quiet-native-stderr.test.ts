import { expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../helpers/udpvid.ts";

test("what native code writes to fd 2 while loading is dropped; stderr works again afterwards, and the result comes through", () => {
  const module = JSON.stringify(join(ROOT, "src", "display", "quiet-native-stderr.ts"));
  // fs.writeSync(2, …) writes straight to the descriptor, as SDL's C code does with fprintf(stderr, …).
  const script = `
    import { writeSync } from "node:fs";
    import { withNativeStderrQuiet } from ${module};
    writeSync(2, "before\\n");
    const value = await withNativeStderrQuiet(async () => { writeSync(2, "SDL silent error: noise\\n"); return 42; });
    writeSync(2, "after " + value + "\\n");
    await withNativeStderrQuiet(async () => { throw new Error("load failed"); }).catch((e) => writeSync(2, "caught " + e.message + "\\n"));
    writeSync(2, "still here\\n");
  `;
  const result = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
  expect(result.exitCode).toBe(0);
  expect(result.stderr.toString()).toBe("before\nafter 42\ncaught load failed\nstill here\n");
});
