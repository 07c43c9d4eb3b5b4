// Reed–Solomon cost per 1080p frame: parity for a whole frame (send side) and
// rebuilding lost chunks (receive side), at the default --fec, in one run.
//   bun run bench:fec
import { machineLine, saveResult } from "./bench/report.ts";
import { DEFAULT_FEC_PERCENT, packetizeV2, planLayout } from "../src/packetizer/v2-packetizer.ts";
import { deserializeV2 } from "../src/protocol/v2.ts";
import { V2Reassembler } from "../src/reassembler/v2-reassembler.ts";
import { meanMs, sampleFrames1080p } from "./bench/sample-frames.ts";

const RUNS = 200;

const frames = await sampleFrames1080p();
const time = (fn: () => void) => meanMs(fn, RUNS);

const rows: string[] = [];
for (const [name, jpeg] of frames) {
  const options = { datagramSize: 1400, fecPercent: DEFAULT_FEC_PERCENT };
  const layout = planLayout(jpeg.length, options);
  const info = { streamId: 1, frameNumber: 0, captureTimeUs: 0 };
  const withFec = time(() => packetizeV2(jpeg, info, options));
  const withoutFec = time(() => packetizeV2(jpeg, info, { ...options, fecPercent: 0 }));
  const packets = packetizeV2(jpeg, info, options).map(deserializeV2);
  // Receive side: the worst FEC still repairs, m data chunks lost in every group.
  const lost = new Set<number>();
  for (let g = 0; g < layout.groups; g++) for (let row = 0; row < layout.parityPerGroup; row++) lost.add(g + row * layout.groups);
  const kept = packets.filter((p) => p.parity || !lost.has(p.chunkIndex));
  const reassemble = (list: typeof packets) => () => {
    const r = new V2Reassembler();
    let frames = 0;
    for (const p of list) frames += r.push(p, 0).filter((e) => e.kind === "frame").length;
    frames += r.expire(100).filter((e) => e.kind === "frame").length;
    if (frames !== 1) throw new Error("frame not rebuilt");
  };
  const decodeLossy = time(reassemble(kept));
  const decodeClean = time(reassemble(packets.filter((p) => !p.parity)));
  rows.push(
    `| ${name} | ${(jpeg.length / 1024).toFixed(0)} KiB | ${layout.dataChunks} + ${layout.groups * layout.parityPerGroup} in ${layout.groups} group(s) | ` +
      `${(withFec - withoutFec).toFixed(2)} | ${lost.size} | ${(decodeLossy - decodeClean).toFixed(2)} |`,
  );
}

const report = [
  `# Reed–Solomon FEC cost per 1080p frame (--fec ${DEFAULT_FEC_PERCENT}, 1400-byte datagrams), mean of ${RUNS} runs`,
  "",
  machineLine(),
  "",
  "Encode is packetizing with FEC minus packetizing without; decode is reassembling with the worst repairable loss (m data chunks lost in every group) minus reassembling the data alone. Target: under 2 ms each.",
  "",
  "| frame | JPEG | chunks (data + parity) | encode ms | data chunks lost | decode ms |",
  "|---|---|---|---|---|---|",
  ...rows,
  "",
].join("\n");
console.log(report);
saveResult("fec.md", report);
