import type { udp } from "bun";
import { dlopen, FFIType, ptr } from "bun:ffi";

/**
 * Sets a socket's kernel receive or send buffer (SO_RCVBUF / SO_SNDBUF), which
 * Bun.udpSocket has no option for. The default, about 208 KiB on Linux, holds
 * half a 1080p frame: a receiver whose thread stalls for a few milliseconds
 * (GC, a busy core) loses datagrams that a few MiB would have kept.
 * Linux and macOS through libc's setsockopt; elsewhere it does nothing.
 */

/** A Bun UDP socket's descriptor: Bun exposes it, but its types do not declare it. */
export function socketFd(socket: udp.Socket<"uint8array">): number {
  return (socket as unknown as { fd: number }).fd;
}

interface SocketConstants {
  library: string;
  SOL_SOCKET: number;
  SO_SNDBUF: number;
  SO_RCVBUF: number;
  /** Linux reports twice what it grants (the other half is its bookkeeping). */
  reportedFactor: number;
}

const PLATFORMS: Record<string, SocketConstants | undefined> = {
  linux: { library: "libc.so.6", SOL_SOCKET: 1, SO_SNDBUF: 7, SO_RCVBUF: 8, reportedFactor: 2 },
  darwin: { library: "libSystem.B.dylib", SOL_SOCKET: 0xffff, SO_SNDBUF: 0x1001, SO_RCVBUF: 0x1002, reportedFactor: 1 },
};

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

function openLibc(constants: SocketConstants) {
  return dlopen(constants.library, {
    setsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  }).symbols;
}

function load(): { libc: Libc; constants: SocketConstants } | undefined {
  const constants = PLATFORMS[process.platform];
  if (!constants) return undefined;
  if (libc === undefined) {
    try {
      libc = openLibc(constants);
    } catch {
      libc = null;
    }
  }
  return libc ? { libc, constants } : undefined;
}

export type BufferKind = "receive" | "send";

/** The buffer's size in bytes as the kernel grants it, or undefined where it cannot be read. */
export function socketBufferSize(fd: number, kind: BufferKind): number | undefined {
  const loaded = load();
  if (!loaded) return undefined;
  const { libc, constants } = loaded;
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  const option = kind === "receive" ? constants.SO_RCVBUF : constants.SO_SNDBUF;
  if (libc.getsockopt(fd, constants.SOL_SOCKET, option, ptr(value), ptr(length)) !== 0) return undefined;
  return Math.floor(value[0]! / constants.reportedFactor);
}

/**
 * Asks for `bytes` and returns what was granted (the kernel caps it, on Linux at
 * net.core.rmem_max / wmem_max), or undefined where buffers cannot be set.
 * Never shrinks a buffer that is already larger.
 */
export function growSocketBuffer(fd: number, kind: BufferKind, bytes: number): number | undefined {
  const before = socketBufferSize(fd, kind);
  if (before === undefined) return undefined;
  if (before >= bytes) return before;
  const { libc, constants } = load()!;
  const option = kind === "receive" ? constants.SO_RCVBUF : constants.SO_SNDBUF;
  libc.setsockopt(fd, constants.SOL_SOCKET, option, ptr(new Int32Array([bytes])), 4);
  return socketBufferSize(fd, kind);
}
