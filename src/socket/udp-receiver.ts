import type { udp } from "bun";
import { growSocketBuffer } from "./socket-buffer.ts";

export type DatagramHandler = (datagram: Uint8Array, address: string, port: number) => void;

export class BindError extends Error {}

/** Eight 1080p frames at quality 80: a stall of a few frame times loses nothing. The kernel may grant less. */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** The receiving edge: binds, hands every datagram to `onDatagram`, and turns bind failures into plain messages. */
export class UdpReceiver {
  private constructor(
    private readonly socket: udp.Socket<"uint8array">,
    /** The kernel's receive buffer in bytes, as granted; undefined where it cannot be read. */
    readonly receiveBufferBytes: number | undefined,
  ) {}

  static async open(bind: string, port: number, onDatagram: DatagramHandler): Promise<UdpReceiver> {
    try {
      const socket = await Bun.udpSocket({
        hostname: bind,
        port,
        binaryType: "uint8array",
        socket: {
          data: (_socket, datagram, remotePort, remoteAddress) => onDatagram(datagram, remoteAddress, remotePort),
          // Receive-side errors (e.g. ICMP echoes) are not fatal for a listener.
          error: () => {},
        },
      });
      return new UdpReceiver(socket, growSocketBuffer(socketFd(socket), "receive", RECEIVE_BUFFER_BYTES));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EADDRINUSE") {
        throw new BindError(`port ${port} on ${bind} is already in use (another receiver running?); pick another with --port`);
      }
      if (code === "EADDRNOTAVAIL" || code === "EINVAL") {
        throw new BindError(`cannot listen on ${bind}: not an address of this machine; check --bind`);
      }
      throw error;
    }
  }

  get port(): number {
    return this.socket.port;
  }

  close(): void {
    this.socket.close();
  }
}

/** Bun exposes the descriptor but its types do not declare it. */
export function socketFd(socket: udp.Socket<"uint8array">): number {
  return (socket as unknown as { fd: number }).fd;
}
