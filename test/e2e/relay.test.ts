import { expect, test } from "bun:test";
import { finish, lastJson, runUdpvid, startUdpvid } from "../helpers/udpvid.ts";

async function collect(port: number, expected: number, timeoutMs: number) {
  const received: number[] = [];
  const socket = await Bun.udpSocket({
    port,
    hostname: "127.0.0.1",
    socket: {
      data: (_s, data) => {
        received.push(new DataView(data.buffer, data.byteOffset).getUint32(0));
      },
    },
  });
  const deadline = performance.now() + timeoutMs;
  while (received.length < expected && performance.now() < deadline) await Bun.sleep(20);
  return { received, socket };
}

test("relay forwards datagrams through seeded loss, and reports what it did", async () => {
  const sink = await Bun.udpSocket({ port: 0, hostname: "127.0.0.1" });
  const sinkPort = sink.port;
  sink.close();
  await using relay = startUdpvid(["relay", "--listen", "0", "--to", `127.0.0.1:${sinkPort}`, "--loss", "20", "--seed", "5", "--json"]);
  const relayPort = await relay.listening;
  const receiving = collect(sinkPort, 1000, 1500);
  await Bun.sleep(100);
  const source = await Bun.udpSocket({});
  for (let i = 0; i < 1000; i++) {
    const datagram = new Uint8Array(100);
    new DataView(datagram.buffer).setUint32(0, i);
    source.send(datagram, relayPort, "127.0.0.1");
    if (i % 20 === 19) await Bun.sleep(2);
  }
  await Bun.sleep(300);
  const { received, socket } = await receiving;
  socket.close();
  source.close();
  relay.process.kill("SIGINT");
  const result = await finish(relay, 5000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<{ datagramsIn: number; datagramsLost: number; datagramsOut: number; lossPercent: number }>(result.stdout);
  expect(summary.datagramsIn).toBe(1000);
  expect(summary.datagramsOut).toBe(received.length);
  expect(summary.datagramsLost).toBe(1000 - received.length);
  expect(summary.lossPercent).toBeGreaterThan(15);
  expect(summary.lossPercent).toBeLessThan(25);
  // Loss only: what arrives is in order and never invented.
  expect(received).toEqual([...received].sort((a, b) => a - b));
  expect(new Set(received).size).toBe(received.length);
});

test("relay options are checked", async () => {
  for (const [args, message] of [
    [["relay", "--to", "127.0.0.1:1"], "--listen PORT is required"],
    [["relay", "--listen", "0"], "--to HOST:PORT is required"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--loss", "150"], "--loss must be a number from 0 to 99.999"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--burst-loss", "5"], "--burst-loss must be PERCENT:LEN"],
  ] as const) {
    const result = await runUdpvid([...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
  }
});

test("a v2 stream through 10% loss arrives whole: FEC rebuilds what was lost", async () => {
  await using receiver = startUdpvid(["receive", "--headless", "--port", "0", "--idle-timeout", "1", "--json"]);
  const receiverPort = await receiver.listening;
  await using relay = startUdpvid(["relay", "--listen", "0", "--to", `127.0.0.1:${receiverPort}`, "--loss", "10", "--seed", "2"]);
  const relayPort = await relay.listening;
  const sent = await runUdpvid(["send", "--to", `127.0.0.1:${relayPort}`, "--width", "640", "--height", "480", "--fps", "60", "--json"]);
  expect(sent.exitCode).toBe(0);
  const frames = lastJson<{ frames: number }>(sent.stdout).frames;
  const summary = lastJson<{ framesShown: number; framesReceived: number; framesRecovered: number; framesCorrupt: number; datagramsLost: number }>(
    (await finish(receiver)).stdout,
  );
  relay.kill();
  expect(summary.framesCorrupt).toBe(0);
  expect(summary.datagramsLost).toBeGreaterThan(0);
  expect(summary.framesRecovered).toBeGreaterThan(frames / 2);
  expect(summary.framesReceived).toBeGreaterThanOrEqual(Math.floor(frames * 0.97));
});
