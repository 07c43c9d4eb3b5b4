import type { udp } from "bun";
import { growSocketBuffer, socketFd } from "./socket-buffer.ts";

export type DatagramHandler = (datagram: Uint8Array, address: string, port: number) => void;

export class BindError extends Error {}

export interface MulticastOptions {
  /** A multicast group to join. */
  group?: string;
  /** The local interface address to join it on. */
  interface?: string;
}

/** SO_REUSEPORT, as Bun's node:dgram passes it (undocumented in Bun.udpSocket's types). */
const REUSE_PORT = 4;

/** Eight 1080p frames at quality 80: a stall of a few frame times loses nothing. The kernel may grant less. */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** The receiving edge: binds, hands every datagram to `onDatagram`, and turns bind failures into plain messages. */
export class UdpReceiver {
  private constructor(
    private readonly socket: udp.Socket<"uint8array">,
    /** The kernel's receive buffer in bytes, as granted; undefined where it cannot be read. */
    readonly receiveBufferBytes: number | undefined,
  ) {}

  static async open(bind: string, port: number, multicast: MulticastOptions, onDatagram: DatagramHandler): Promise<UdpReceiver> {
    let socket: udp.Socket<"uint8array">;
    try {
      socket = await Bun.udpSocket({
        hostname: bind,
        port,
        // Several receivers of one group on one machine share the port (each gets every datagram);
        // a unicast port stays exclusive, so a second receiver is told the port is in use.
        ...(multicast.group ? { flags: REUSE_PORT } : {}),
        binaryType: "uint8array",
        socket: {
          data: (_socket, datagram, remotePort, remoteAddress) => onDatagram(datagram, remoteAddress, remotePort),
          // Receive-side errors (e.g. ICMP echoes) are not fatal for a listener.
          error: () => {},
        },
      });
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
    if (multicast.group && !joinGroup(socket, multicast)) {
      socket.close();
      throw new BindError(`cannot join multicast group ${multicast.group}${multicast.interface ? ` on ${multicast.interface}` : ""}: check --interface`);
    }
    return new UdpReceiver(socket, growSocketBuffer(socketFd(socket), "receive", RECEIVE_BUFFER_BYTES));
  }

  get port(): number {
    return this.socket.port;
  }

  /** Sends a reply (feedback) from the listening socket, so it reaches the sender's own socket through any NAT. Never throws: a lost reply is a lost datagram. */
  reply(datagram: Uint8Array, address: string, port: number): boolean {
    try {
      return this.socket.send(datagram, port, address);
    } catch {
      return false;
    }
  }

  close(): void {
    this.socket.close();
  }
}

function joinGroup(socket: udp.Socket<"uint8array">, multicast: MulticastOptions): boolean {
  try {
    return socket.addMembership(multicast.group!, multicast.interface);
  } catch {
    return false;
  }
}
