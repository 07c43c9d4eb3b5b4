import { dlopen, FFIType } from "bun:ffi";

const SYMBOLS = { mkfifo: { args: [FFIType.cstring, FFIType.u32], returns: FFIType.i32 } } as const;

/** The C library's name where bun:ffi can open it (glibc's soname on Linux). */
const LIBC = process.platform === "darwin" ? "libc.dylib" : "libc.so.6";

let libc: { mkfifo(path: Uint8Array, mode: number): number } | null | undefined;

/**
 * Makes a FIFO at `path` (readable and writable by this user only): mkfifo(3)
 * through bun:ffi, under a millisecond; where the C library cannot be opened
 * so (musl), the mkfifo command, which cost 6-7 ms of the main thread at
 * start-up. Throws when neither makes it.
 */
export function makeFifo(path: string): void {
  if (libc === undefined) {
    try {
      libc = dlopen(LIBC, SYMBOLS).symbols;
    } catch {
      libc = null;
    }
  }
  if (libc) {
    if (libc.mkfifo(Buffer.from(`${path}\0`), 0o600) !== 0) throw new Error(`mkfifo ${path} failed`);
    return;
  }
  if (!Bun.spawnSync(["mkfifo", "-m", "600", path], { stdin: "ignore", stdout: "ignore", stderr: "ignore" }).success) throw new Error(`mkfifo ${path} failed`);
}
