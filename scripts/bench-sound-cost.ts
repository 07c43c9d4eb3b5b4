// What the sound costs each side, in CPU:
//   bun run bench:sound-cost [--pairs N] [--seconds S] [--steady-from S] [--clip FILE]
// The same stream is sent and received twice at the same time, with its
// sound and without (so a busy spell on this shared machine falls on both):
// the sender with and without --no-audio, the receiver --headless with and
// without --audio (its sound played on SDL's disk driver, which writes what a
// card would play). Senders share one core, receivers the other. CPU is read
// from outside: each process's own use (rusage, its ffmpeg children with it)
// and, for the receiver, each thread's from /proc, to show where the
// difference goes, over the whole run and in its steady state. The clip is
// 90 s and the steady state starts 30 s in: JSC went on compiling (DFG, FTL)
// until some 25 s into a run (BUN_JSC_reportCompileTimes), and the sound's
// code tiers up later than the picture's, so a 30 s run put 0.8% of a core of
// one-off compiling on the sound.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineLine, saveResult } from "./bench/report.ts";
import { cpuMs, freePort } from "./lib/processes.ts";
import { CLI, finish, startCommand } from "../test/helpers/udpvid.ts";

const ROOT = join(import.meta.dir, "..");
const { values } = parseArgs({ options: { pairs: { type: "string", default: "4" }, clip: { type: "string" }, seconds: { type: "string", default: "90" }, "steady-from": { type: "string", default: "30" } } });
const PAIRS = Number(values.pairs);
if (!Number.isInteger(PAIRS) || PAIRS < 1) throw new Error("--pairs takes a whole number of pairs, at least 1");
if (!(Number(values.seconds) >= 10)) throw new Error("--seconds takes the length of the clip made, in seconds, at least 10");
if (!(Number(values["steady-from"]) >= 0 && Number(values["steady-from"]) < Number(values.seconds) - 5)) throw new Error("--steady-from takes seconds into the run, at least 5 s before the clip ends");
if (cpus().length < 2) throw new Error("this benchmark pins each side to a core of its own: it needs two");

const workDir = mkdtempSync(join(tmpdir(), "udpvid-sound-cost-"));
const CLIP_SECONDS = Number(values.seconds);
let clip = values.clip;
if (!clip) {
  clip = join(workDir, "clip.mp4");
  const made = Bun.spawnSync(["bash", join(ROOT, "scripts/make-video.sh"), clip, String(CLIP_SECONDS)]);
  if (made.exitCode !== 0) throw new Error(`could not make the ${CLIP_SECONDS} s clip: ${made.stderr.toString()}`);
}
if (!existsSync(clip)) throw new Error(`no clip at ${clip}`);

/**
 * CPU ms each thread of a process has used so far, by thread id, with its
 * group: read again and again while it runs, so a thread that ends before
 * the process (SDL's audio thread, closed as the sound ends) keeps its last figure.
 */
function readThreads(pid: number, into: Map<number, { group: string; ms: number }>): void {
  const msPerTick = 1000 / 100; // USER_HZ: 100 on Linux
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const group = threadGroup(readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim(), Number(tid) === pid);
      into.set(Number(tid), { group, ms: (Number(fields[11]) + Number(fields[12])) * msPerTick });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
}

/** How often the main thread has gone to sleep and been woken again so far (its voluntary context switches); undefined once it has exited. */
function mainWakeUps(pid: number): number | undefined {
  try {
    const match = /voluntary_ctxt_switches:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Threads grouped by what they do: the main (JavaScript) thread, SDL's audio thread, libvips' workers (JPEG decoding), the rest. */
function threadGroup(comm: string, isMain: boolean): string {
  if (isMain) return "main";
  if (comm.startsWith("SDLAudio")) return "SDL audio";
  if (comm.startsWith("libvips")) return "libvips";
  return "other";
}

interface Run {
  senderMs: number;
  receiverMs: number;
  /** CPU ms by thread group from STEADY_FROM_S into the run until the sender was done. */
  steady: Map<string, number>;
  steadySeconds: number;
  /** Main-thread wake-ups a second over the steady span: the receiver's, and the sender's. */
  receiverWakeUps: number;
  senderWakeUps: number;
  seconds: number;
}

/** The steady figures start this far into a run: past loading SDL and libopus, opening the device, and the JIT's compiling (see the top). */
const STEADY_FROM_S = Number(values["steady-from"]);

function byGroup(threads: Map<number, { group: string; ms: number }>, since: Map<number, { group: string; ms: number }>): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [tid, { group, ms }] of threads) groups.set(group, (groups.get(group) ?? 0) + ms - (since.get(tid)?.ms ?? 0));
  return groups;
}

async function run(sound: boolean): Promise<Run> {
  const port = await freePort();
  const soundFile = join(workDir, `sound-${port}.f32`);
  const receiver = startCommand(
    ["taskset", "-c", "0", process.execPath, CLI, "receive", "--headless", ...(sound ? ["--audio"] : []), "--port", String(port), "--idle-timeout", "2", "--json"],
    { SDL_AUDIODRIVER: "disk", SDL_DISKAUDIOFILE: soundFile },
  );
  await receiver.listening;
  const pid = receiver.process.pid;
  // Each thread's figure as last read before it (or the receiver) ended: read every 100 ms.
  const byThread = new Map<number, { group: string; ms: number }>();
  // Each main thread's wake-ups as last read before it ended (the receiver without sound can end before its sender).
  let senderPid: number | undefined;
  let senderWakes: number | undefined;
  let receiverWakes: number | undefined;
  const sampling = setInterval(() => {
    try {
      readThreads(pid, byThread);
    } catch {
      // It has exited.
    }
    receiverWakes = mainWakeUps(pid) ?? receiverWakes;
    if (senderPid !== undefined) senderWakes = mainWakeUps(senderPid) ?? senderWakes;
  }, 100);
  const startMs = performance.now();
  type Mark = { atMs: number; threads: Map<number, { group: string; ms: number }>; receiverWakes: number; senderWakes: number };
  let steadyStart: Mark | undefined;
  const mark = (): Mark => ({ atMs: performance.now(), threads: structuredClone(byThread), receiverWakes: mainWakeUps(pid) ?? receiverWakes ?? Number.NaN, senderWakes: (senderPid === undefined ? undefined : mainWakeUps(senderPid)) ?? senderWakes ?? Number.NaN });
  const steadyTimer = setTimeout(() => (steadyStart = mark()), STEADY_FROM_S * 1000);
  const sender = startCommand(["taskset", "-c", "1", process.execPath, CLI, "send", clip!, "--to", `127.0.0.1:${port}`, ...(sound ? [] : ["--no-audio"]), "--json"]);
  senderPid = sender.process.pid;
  let steadyEnd: Mark | undefined;
  void sender.process.exited.then(() => {
    try {
      readThreads(pid, byThread);
    } catch {
      // It has exited too.
    }
    steadyEnd = mark();
  });
  const [sent, received] = await Promise.all([finish(sender, 120_000), finish(receiver, 120_000)]);
  clearInterval(sampling);
  clearTimeout(steadyTimer);
  if (sent.exitCode !== 0 || received.exitCode !== 0) throw new Error(`a run failed: send ${sent.exitCode} ${sent.stderr.slice(-300)}; receive ${received.exitCode} ${received.stderr.slice(-300)}`);
  if (!steadyStart || !steadyEnd) throw new Error(`the run was shorter than ${STEADY_FROM_S} s`);
  const summary = JSON.parse(received.stdout.trim().split("\n").at(-1)!);
  if (sound && !(summary.sound?.played > 0)) throw new Error(`the receiver played no sound: ${JSON.stringify(summary.sound)}`);
  return {
    senderMs: cpuMs(sender.process),
    receiverMs: cpuMs(receiver.process),
    steady: byGroup(steadyEnd.threads, steadyStart.threads),
    steadySeconds: (steadyEnd.atMs - steadyStart.atMs) / 1000,
    receiverWakeUps: (steadyEnd.receiverWakes - steadyStart.receiverWakes) / ((steadyEnd.atMs - steadyStart.atMs) / 1000),
    senderWakeUps: (steadyEnd.senderWakes - steadyStart.senderWakes) / ((steadyEnd.atMs - steadyStart.atMs) / 1000),
    seconds: (performance.now() - startMs) / 1000,
  };
}

const pairs: { with: Run; without: Run }[] = [];
for (let i = 0; i < PAIRS; i++) {
  // Side by side, at the same time: a busy spell on this shared machine (and its other tenants) falls on both alike.
  // Run one after the other, the same pair differed by ±2% of a core from the noise alone.
  const [withSound, without] = await Promise.all([run(true), run(false)]);
  const pair = { with: withSound, without };
  pairs.push(pair);
  console.error(`pair ${i + 1}/${PAIRS}: sender +${share(pair.with.senderMs - pair.without.senderMs, pair.with.seconds)}%, receiver +${share(pair.with.receiverMs - pair.without.receiverMs, pair.with.seconds)}% of a core`);
}
rmSync(workDir, { recursive: true, force: true });

/** ms of CPU over a run of `seconds`, as % of one core. */
function share(ms: number, seconds: number): string {
  return ((ms / 10 / seconds)).toFixed(1);
}
const GROUPS = ["main", "SDL audio", "libvips", "other"];
type Pair = { with: Run; without: Run };
const total = (groups: Map<string, number>) => [...groups.values()].reduce((a, b) => a + b, 0);
/** Each figure of a pair: the run with sound minus the run without, % of a core. */
const figures: ((p: Pair) => number)[] = [
  (p) => (p.with.senderMs - p.without.senderMs) / 10 / p.with.seconds,
  (p) => (p.with.receiverMs - p.without.receiverMs) / 10 / p.with.seconds,
  (p) => (total(p.with.steady) / p.with.steadySeconds - total(p.without.steady) / p.without.steadySeconds) / 10,
  ...GROUPS.map((g) => (p: Pair) => ((p.with.steady.get(g) ?? 0) / p.with.steadySeconds - (p.without.steady.get(g) ?? 0) / p.without.steadySeconds) / 10),
];
/** Main-thread wake-ups a second in the steady span, with sound and without: what the sound's timers and datagrams add. */
const wakeFigures: ((p: Pair) => number)[] = [(p) => p.with.senderWakeUps, (p) => p.without.senderWakeUps, (p) => p.with.receiverWakeUps, (p) => p.without.receiverWakeUps];
const header = [
  "pair",
  "sender +% (whole run)",
  "receiver +% (whole run)",
  "receiver +% (steady)",
  ...GROUPS.map((g) => `steady: ${g} +%`),
  "sender wake-ups/s, with / without",
  "receiver wake-ups/s, with / without",
  "run, s",
];
const wakes = (values: number[]) => `${values[0]!.toFixed(0)} / ${values[1]!.toFixed(0)}`;
const rows = pairs.map((p, i) => {
  const w = wakeFigures.map((f) => f(p));
  return [String(i + 1), ...figures.map((f) => f(p).toFixed(1)), wakes(w.slice(0, 2)), wakes(w.slice(2)), p.with.seconds.toFixed(1)];
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summaryRow = (label: string, pick: (xs: number[]) => number, withWakes: boolean) => {
  const w = withWakes ? wakeFigures.map((f) => pick(pairs.map(f))) : [];
  return [label, ...figures.map((f) => pick(pairs.map(f)).toFixed(1)), w.length ? wakes(w.slice(0, 2)) : "", w.length ? wakes(w.slice(2)) : "", ""];
};
// Wake-ups have no "worst": fewer with sound is not better than more without.
rows.push(summaryRow("median", median, true), summaryRow("worst", (xs) => Math.max(...xs), false));

const table = [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
const report = `# What the sound costs

${machineLine(`${PAIRS} pairs`)}

${values.clip ? `The clip ${values.clip}` : `A ${CLIP_SECONDS} s clip, made as video.mp4 is (1280x720 at 30 fps, Opus sound),`} is streamed twice at the same time, from \`udpvid send\` to \`udpvid receive --headless\`: once with its sound (the receiver with \`--audio\`, played on SDL's disk driver) and once without (the sender with \`--no-audio\`). Both senders share core 1 and both receivers core 0, so a busy spell on this shared machine falls on both alike. Each figure is the run with sound minus the run without, as % of one core. Sender: the process and its ffmpeg children (rusage), over the whole run. Receiver: the process (rusage) over the whole run, and, from /proc by thread, from ${STEADY_FROM_S} s in until the sender is done ("steady": past loading SDL and libopus, and the JIT's compiling, which went on until some 25 s in): the main (JavaScript) thread, SDL's audio thread, libvips' JPEG decoding workers, the rest (JIT, GC, the allocator). In the run without sound the sender sends none: the receiver's difference is all the sound costs it, its packets taken in and repaired, decoded and played, and the picture held to the sound's clock. The wake-ups are the main thread's voluntary context switches a second over the steady span (/proc), the sender's and the receiver's, with sound and without: each is a sleep and a wake-up, some 60–100 µs of this VM's time.

${table}
`;
console.log(report);
console.error(`written to ${saveResult("sound-cost.md", report)}`);
