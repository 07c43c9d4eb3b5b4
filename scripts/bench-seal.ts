// Cost of --key (AES-256-GCM on every v2 datagram) per 1080p frame: sealing on
// the send side, authenticating and opening on the receive side, against the
// same work without a key, in one run.
//   bun run bench:seal
import { machineLine, saveResult } from "./bench/report.ts";
import { DEFAULT_FEC_PERCENT, packetizeV2 } from "../src/packetizer/v2-packetizer.ts";
import { StreamAssembler } from "../src/reassembler/stream-assembler.ts";
import { newStreamKey } from "../src/protocol/v2-seal.ts";
import { meanMs, sampleFrames1080p } from "./bench/sample-frames.ts";

const RUNS = 200;
const KEY = crypto.getRandomValues(new Uint8Array(32));

const rows: string[] = [];
for (const [name, jpeg] of await sampleFrames1080p()) {
  const info = { streamId: 1, frameNumber: 0, captureTimeUs: 0 };
  const plainOptions = { datagramSize: 1400, fecPercent: DEFAULT_FEC_PERCENT };
  const sealedOptions = { ...plainOptions, key: newStreamKey(KEY) };
  const sendPlain = meanMs(() => packetizeV2(jpeg, info, plainOptions), RUNS);
  const sendSealed = meanMs(() => packetizeV2(jpeg, info, sealedOptions), RUNS);
  const receive = (datagrams: Uint8Array[], key?: Uint8Array) => () => {
    const assembler = new StreamAssembler({ maxMemoryBytes: 64 << 20, key });
    let frames = 0;
    for (const d of datagrams) frames += assembler.push(d, 0).length;
    if (frames !== 1) throw new Error("frame not assembled");
  };
  const plain = packetizeV2(jpeg, info, plainOptions);
  const sealed = packetizeV2(jpeg, info, sealedOptions);
  const receivePlain = meanMs(receive(plain), RUNS);
  const receiveSealed = meanMs(receive(sealed, KEY), RUNS);
  const wire = (list: Uint8Array[]) => list.reduce((sum, d) => sum + d.length, 0);
  const mbPerS = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
  rows.push(
    `| ${name} | ${(jpeg.length / 1024).toFixed(0)} KiB | ${sealed.length} | ${sendPlain.toFixed(2)} → ${sendSealed.toFixed(2)} (+${(sendSealed - sendPlain).toFixed(2)}) | ` +
      `${receivePlain.toFixed(2)} → ${receiveSealed.toFixed(2)} (+${(receiveSealed - receivePlain).toFixed(2)}) | ` +
      `${mbPerS(wire(sealed), sendSealed - sendPlain)} / ${mbPerS(wire(sealed), receiveSealed - receivePlain)} | ${(((wire(sealed) - wire(plain)) / wire(plain)) * 100).toFixed(1)}% |`,
  );
}

const report = [
  `# Cost of --key (AES-256-GCM per v2 datagram) per 1080p frame, --fec ${DEFAULT_FEC_PERCENT}, 1400-byte datagrams, mean of ${RUNS} runs`,
  "",
  machineLine(),
  "",
  "Send is packetizing (with FEC); receive is assembling every datagram into the frame. Each cell: without key → with key (+ the cost of the key).",
  "",
  "| frame | JPEG | datagrams | send ms | receive ms | crypto throughput, seal / open (MB/s) | extra wire bytes |",
  "|---|---|---|---|---|---|---|",
  ...rows,
  "",
].join("\n");
console.log(report);
saveResult("seal.md", report);
