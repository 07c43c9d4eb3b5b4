import { dlopen, FFIType, ptr } from "bun:ffi";

/**
 * Runs `load` with the process's file descriptor 2 pointed at /dev/null.
 * While the SDL addon loads it writes to stderr from C: stale errors as "SDL
 * silent error: …", and Debian's SDL's Wayland client "XDG_RUNTIME_DIR is
 * invalid". None of it is actionable; a load that really fails throws, and
 * udpvid reports that itself. Linux and macOS (libc's dup/dup2); elsewhere
 * `load` just runs.
 */
export async function withNativeStderrQuiet<T>(load: () => Promise<T>): Promise<T> {
  // One at a time: two overlapping would each save the other's /dev/null and leave stderr silenced for good.
  const turn = queue.then(() => quietWhile(load));
  queue = turn.catch(() => {});
  return turn;
}

let queue: Promise<unknown> = Promise.resolve();

async function quietWhile<T>(load: () => Promise<T>): Promise<T> {
  const libc = openLibc();
  const saved = libc ? libc.dup(2) : -1;
  const devNull = saved >= 0 ? libc!.open(ptr(Buffer.from("/dev/null\0")), O_WRONLY) : -1;
  if (devNull < 0 || libc!.dup2(devNull, 2) < 0) {
    if (devNull >= 0) libc!.close(devNull);
    if (saved >= 0) libc!.close(saved);
    return load();
  }
  libc!.close(devNull);
  try {
    return await load();
  } finally {
    libc!.dup2(saved, 2);
    libc!.close(saved);
  }
}

/** O_WRONLY is 1 on Linux and macOS alike. */
const O_WRONLY = 1;
const LIBC: Partial<Record<NodeJS.Platform, string>> = { linux: "libc.so.6", darwin: "libSystem.B.dylib" };

function openLibc() {
  const library = LIBC[process.platform];
  if (!library) return undefined;
  try {
    return dlopen(library, {
      dup: { args: [FFIType.i32], returns: FFIType.i32 },
      dup2: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    }).symbols;
  } catch {
    return undefined;
  }
}
