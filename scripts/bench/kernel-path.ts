// A real kernel path for the network benchmark: two network namespaces
// joined by a veth pair, with tc's token bucket (tbf) on the sending side, so
// the bottleneck is the kernel's own queue and not the relay's model of one.
// Needs root (ip netns, tc); made and removed by the benchmark itself.

export const SENDER_NS = "udpvid-bench-a";
export const RECEIVER_NS = "udpvid-bench-b";
/** Addresses inside the two namespaces only: nothing outside this machine is reached. */
export const SENDER_ADDRESS = "10.231.0.1";
export const RECEIVER_ADDRESS = "10.231.0.2";

function run(args: string[]): void {
  const result = Bun.spawnSync(args, { stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${args.join(" ")}: ${result.stderr.toString().trim()}`);
}

/** Why the kernel path cannot be made here, or undefined when it can. */
export function kernelPathUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "not root (ip netns and tc need it)";
  for (const tool of ["ip", "tc"]) if (!Bun.which(tool)) return `no ${tool} (Debian's iproute2)`;
  return undefined;
}

/** Makes the two namespaces and the veth between them, with `qdisc` (tc's words after "root") on the sender's end. */
export function makeKernelPath(qdisc: string[]): void {
  removeKernelPath();
  run(["ip", "netns", "add", SENDER_NS]);
  run(["ip", "netns", "add", RECEIVER_NS]);
  run(["ip", "link", "add", "uvbench0", "netns", SENDER_NS, "type", "veth", "peer", "name", "uvbench1", "netns", RECEIVER_NS]);
  for (const [ns, device, address] of [
    [SENDER_NS, "uvbench0", SENDER_ADDRESS],
    [RECEIVER_NS, "uvbench1", RECEIVER_ADDRESS],
  ] as const) {
    run(["ip", "-n", ns, "addr", "add", `${address}/24`, "dev", device]);
    run(["ip", "-n", ns, "link", "set", device, "up"]);
    run(["ip", "-n", ns, "link", "set", "lo", "up"]);
  }
  run(["ip", "netns", "exec", SENDER_NS, "tc", "qdisc", "add", "dev", "uvbench0", "root", ...qdisc]);
}

export function removeKernelPath(): void {
  for (const ns of [SENDER_NS, RECEIVER_NS]) Bun.spawnSync(["ip", "netns", "del", ns], { stderr: "ignore" });
}

/** The command line to run `args` inside namespace `ns`. */
export const inNamespace = (ns: string, args: string[]) => ["ip", "netns", "exec", ns, ...args];
