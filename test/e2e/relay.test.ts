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

/** A port nobody listens on yet (the test's sink binds it later). */
async function freeSinkPort(): Promise<number> {
  const sink = await Bun.udpSocket({ port: 0, hostname: "127.0.0.1" });
  const port = sink.port;
  sink.close();
  return port;
}

test("relay forwards datagrams through seeded loss, and reports what it did", async () => {
  const sinkPort = await freeSinkPort();
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

test("relay's bottleneck carries its rate schedule and drops what overflows its queue, in order", async () => {
  const sinkPort = await freeSinkPort();
  // 2 Mbit/s, then 0.5 from 400 ms: 1250-byte datagrams take 5 ms, then 20 ms; the queue holds 40 ms.
  await using relay = startUdpvid(["relay", "--listen", "0", "--to", `127.0.0.1:${sinkPort}`, "--rate", "2,0.5@400ms", "--queue-ms", "40", "--json"]);
  const relayPort = await relay.listening;
  const arrivals: number[] = [];
  const order: number[] = [];
  const socket = await Bun.udpSocket({
    port: sinkPort,
    hostname: "127.0.0.1",
    socket: {
      data: (_s, data) => {
        arrivals.push(performance.now());
        order.push(new DataView(data.buffer, data.byteOffset).getUint32(0));
      },
    },
  });
  const source = await Bun.udpSocket({});
  const startMs = performance.now();
  // About 10 Mbit/s offered for 1 s: five times the first rate, twenty times the second.
  for (let i = 0; i < 1000; i++) {
    const datagram = new Uint8Array(1250);
    new DataView(datagram.buffer).setUint32(0, i);
    source.send(datagram, relayPort, "127.0.0.1");
    if (i % 10 === 9) await Bun.sleep(10);
  }
  await Bun.sleep(300);
  socket.close();
  source.close();
  relay.process.kill("SIGINT");
  const result = await finish(relay, 5000);
  expect(result.exitCode).toBe(0);
  const summary = lastJson<{ datagramsIn: number; datagramsQueueDropped: number; datagramsOut: number }>(result.stdout);
  expect(summary.datagramsIn).toBe(1000);
  expect(summary.datagramsOut).toBe(arrivals.length);
  expect(summary.datagramsOut + summary.datagramsQueueDropped).toBe(1000);
  expect(order).toEqual([...order].sort((a, b) => a - b));
  // At most what the schedule carries over the time it ran (plus the queue), and far fewer than offered.
  const elapsedMs = arrivals.at(-1)! - startMs;
  expect(arrivals.length).toBeLessThanOrEqual(Math.ceil(400 / 5 + (elapsedMs - 400) / 20 + 40 / 5 + 2));
  expect(arrivals.length).toBeGreaterThan(40);
  // Once the rate has dropped, arrivals are spaced at least by the slower transmission time (bar timer jitter).
  const late = arrivals.filter((t) => t - startMs > 700);
  expect(late.length).toBeGreaterThan(5);
  expect((late.at(-1)! - late[0]!) / (late.length - 1)).toBeGreaterThan(15);
});

test("relay options are checked", async () => {
  for (const [args, message] of [
    [["relay", "--to", "127.0.0.1:1"], "--listen PORT is required"],
    [["relay", "--listen", "0"], "--to HOST:PORT is required"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--loss", "150"], "--loss must be a number from 0 to 99.999"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--burst-loss", "5"], "--burst-loss must be PERCENT:LEN"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--rate", "25,6"], "--rate: every rate after the first needs @TIME"],
    [["relay", "--listen", "0", "--to", "127.0.0.1:1", "--queue-ms", "100"], "--queue-ms needs --rate"],
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
