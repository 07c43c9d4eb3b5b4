// WebSocket viewers that behave as udpvid's page does on the wire (each
// picture acknowledged as it arrives, a "drawn" report after it), without a
// browser's decoding: what many viewers cost the receiver, measured apart
// from what they cost the machine. Used by bench-web.ts as a child process:
//   bun scripts/bench/web-clients.ts URL COUNT [--churn-ms N] [--stall-share F] [--seed S]
// With --churn-ms, one viewer at random leaves (or, a --stall-share of the
// time, stops reading) every N ms and a new one joins. Prints one JSON line
// of counts when it gets SIGTERM.
import { parseArgs } from "node:util";
import { decodePicture } from "../../src/web/web-messages.ts";

const { positionals, values } = parseArgs({ allowPositionals: true, options: { "churn-ms": { type: "string" }, "stall-share": { type: "string", default: "0" }, seed: { type: "string", default: "1" } } });
const [url, countText] = positionals;
if (!url || !countText) throw new Error("usage: web-clients.ts URL COUNT [--churn-ms N] [--stall-share F] [--seed S]");
const count = Number(countText);
const wsUrl = new URL("ws", url.replace(/^http/, "ws"));
wsUrl.search = new URL(url).search;

// A small seeded generator (mulberry32): the same churn for the same seed.
let state = Number(values.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const counts = { joined: 0, left: 0, stalled: 0, pictures: 0, bytes: 0, closedByReceiver: 0 };
interface Client {
  socket: WebSocket;
  reading: boolean;
}
const clients = new Set<Client>();

function join(): void {
  const client: Client = { socket: new WebSocket(wsUrl), reading: true };
  client.socket.binaryType = "arraybuffer";
  client.socket.onmessage = (event) => {
    if (!client.reading || typeof event.data === "string") return;
    const picture = decodePicture(new Uint8Array(event.data as ArrayBuffer));
    if (!picture) return;
    counts.pictures++;
    counts.bytes += picture.jpeg.length;
    client.socket.send(JSON.stringify({ type: "got", frame: picture.frameNumber }));
    client.socket.send(JSON.stringify({ type: "drawn", frame: picture.frameNumber, sentAtMs: picture.sentAtMs, heldMs: 0 }));
  };
  client.socket.onclose = () => {
    if (clients.delete(client)) counts.closedByReceiver++;
  };
  clients.add(client);
  counts.joined++;
}

for (let i = 0; i < count; i++) join();
if (values["churn-ms"]) {
  const stallShare = Number(values["stall-share"]);
  setInterval(() => {
    const list = [...clients].filter((c) => c.reading);
    const leaving = list[Math.floor(random() * list.length)];
    if (leaving) {
      if (random() < stallShare) {
        // Stops reading (acknowledges nothing more): the receiver is to drop it.
        leaving.reading = false;
        counts.stalled++;
      } else {
        clients.delete(leaving);
        leaving.socket.close();
        counts.left++;
      }
    }
    join();
  }, Number(values["churn-ms"]));
}

process.on("SIGTERM", () => {
  console.log(JSON.stringify({ ...counts, connected: clients.size }));
  process.exit(0);
});
