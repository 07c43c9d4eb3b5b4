import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { growSocketBuffer, socketBufferSize, socketFd } from "../../src/socket/socket-buffer.ts";
import { RECEIVE_BUFFER_BYTES, UdpReceiver } from "../../src/socket/udp-receiver.ts";

const linux = process.platform === "linux";
/** The most Linux grants without privileges. */
const rmemMax = linux ? Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8")) : Infinity;

test.if(linux)("grows a socket's receive buffer to what was asked, within the kernel's cap, and never shrinks it", async () => {
  const socket = await Bun.udpSocket({ port: 0, binaryType: "uint8array" });
  try {
    const fd = socketFd(socket);
    const before = socketBufferSize(fd, "receive")!;
    expect(before).toBeGreaterThan(0);
    const asked = 3 * 1024 * 1024;
    const granted = growSocketBuffer(fd, "receive", asked)!;
    expect(granted).toBe(Math.min(asked, rmemMax));
    expect(growSocketBuffer(fd, "receive", 64 * 1024)).toBe(granted);
  } finally {
    socket.close();
  }
});

// Where the kernel caps buffers near the default (net.core.rmem_max), there is no difference to show.
test.if(linux && rmemMax >= 2 * 1024 * 1024)("a receiver's grown buffer keeps a burst that arrives while its thread is busy; the default loses most of it", async () => {
  const DATAGRAMS = 1500;
  const payload = new Uint8Array(1200);
  const counts = { grown: 0, plain: 0 };
  await using grown = await openCounting(() => counts.grown++);
  const plain = await Bun.udpSocket({ port: 0, binaryType: "uint8array", socket: { data: () => void counts.plain++ } });
  expect(grown.receiver.receiveBufferBytes).toBe(Math.min(RECEIVE_BUFFER_BYTES, rmemMax));
  const sender = await Bun.udpSocket({ port: 0, binaryType: "uint8array" });
  try {
    // All sent before this thread yields: neither receiver reads until the burst is over.
    for (let i = 0; i < DATAGRAMS; i++) {
      sender.send(payload, grown.receiver.port, "127.0.0.1");
      sender.send(payload, plain.port, "127.0.0.1");
    }
    for (let waited = 0; waited < 2000 && counts.grown < DATAGRAMS; waited += 20) await Bun.sleep(20);
    expect(counts.grown).toBe(DATAGRAMS);
    expect(counts.plain).toBeLessThan(DATAGRAMS / 2);
  } finally {
    sender.close();
    plain.close();
  }
});

async function openCounting(onDatagram: () => void) {
  const receiver = await UdpReceiver.open("127.0.0.1", 0, {}, onDatagram);
  return { receiver, [Symbol.asyncDispose]: async () => receiver.close() };
}
