import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";

export interface HostPort {
  host: string;
  port: number;
}

/** Parses HOST:PORT, [IPv6]:PORT or a bare PORT (meaning 127.0.0.1). Throws a one-line reason. */
export function parseHostPort(text: string, defaultHost = "127.0.0.1"): HostPort {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  const plain = /^([^:]+):(\d+)$/.exec(text);
  const portOnly = /^(\d+)$/.exec(text);
  const [host, portText] = bracketed
    ? [bracketed[1]!, bracketed[2]!]
    : plain
      ? [plain[1]!, plain[2]!]
      : portOnly
        ? [defaultHost, portOnly[1]!]
        : [undefined, undefined];
  if (host === undefined || portText === undefined) throw new RangeError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:9999 or [::1]:9999)`);
  return { host, port: parsePort(portText, false) };
}

export function parsePort(text: string, allowZero: boolean): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (port === 0 && !allowZero)) {
    throw new RangeError(`port must be a whole number from ${allowZero ? 0 : 1} to 65535, got "${text}"`);
  }
  return port;
}

/** Resolves a host name to an IP address: Bun's UDP send takes addresses only. */
export async function resolveHost(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  try {
    const result = await lookup(host);
    return { address: result.address, family: result.family === 6 ? 6 : 4 };
  } catch {
    throw new Error(`cannot resolve host "${host}": check the name, or give an IP address`);
  }
}

/** IPv4 224.0.0.0/4 or IPv6 ff00::/8: a group, not a host. */
export function isMulticast(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const first = Number(address.split(".")[0]);
    return first >= 224 && first <= 239;
  }
  return family === 6 && address.toLowerCase().startsWith("ff");
}

/**
 * The addresses a sender on another machine can use to reach a receiver
 * bound to `bind`: for a wildcard bind, this machine's non-loopback
 * addresses (IPv4 first; IPv6 link-local ones need a zone and are left
 * out), else the bound address itself. Loopback when there is nothing else.
 */
export function reachableAddresses(bind: string, interfaces: Record<string, NetworkInterfaceInfo[] | undefined>): string[] {
  const wildcard = bind === "0.0.0.0" || bind === "::";
  if (!wildcard) return [bind];
  const all = Object.values(interfaces).flatMap((list) => list ?? []).filter((a) => !a.internal);
  const v4 = all.filter((a) => a.family === "IPv4").map((a) => a.address);
  const v6 = bind === "::" ? all.filter((a) => a.family === "IPv6" && !/^fe80:/i.test(a.address)).map((a) => `[${a.address}]`) : [];
  const found = [...v4, ...v6];
  return found.length > 0 ? found : [bind === "::" ? "[::1]" : "127.0.0.1"];
}

/**
 * This machine's interfaces, or none when the system will not say: under
 * wine, libuv's uv_interface_addresses fails now and then, and where to
 * aim is advice, not a reason to stop.
 */
export function localInterfaces(list: typeof networkInterfaces = networkInterfaces): Record<string, NetworkInterfaceInfo[] | undefined> {
  try {
    return list();
  } catch {
    return {};
  }
}

/** "::ffff:10.0.0.1" and "10.0.0.1" are the same sender (an IPv4 peer seen by a dual-stack socket). */
export function normalizeAddress(address: string): string {
  return address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
}
