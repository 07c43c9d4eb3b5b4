import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** Where the web viewer listens: `--web [ADDR:]PORT`. */
export interface WebAddress {
  host: string;
  port: number;
}

export const DEFAULT_WEB_HOST = "127.0.0.1";
/** A token a user gives must be hard to guess, and safe in a URL as it is. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export class WebOptionError extends Error {}

/** "8080", "0.0.0.0:8080", "[::]:8080", "192.168.1.5:0" (0: any free port). */
export function parseWebAddress(text: string): WebAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) throw new WebOptionError(`--web takes [ADDR:]PORT (e.g. 8080 or 0.0.0.0:8080), not "${text}"`);
  const host = match[1] ?? match[2] ?? DEFAULT_WEB_HOST;
  if (host !== "localhost" && isIP(host) === 0) throw new WebOptionError(`--web: "${host}" is not an IP address (give the address of one of this machine's interfaces, or 0.0.0.0 for all)`);
  return { host, port };
}

/** Whether only this machine can reach an address bound to `host`. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The token a viewer must show, if any: none on a loopback binding (only
 * this machine's users can reach it) unless one is given; on any other, the
 * one given or one made at random (128 bits).
 */
export function accessToken(host: string, given: string | undefined): string | undefined {
  if (given !== undefined && !TOKEN_PATTERN.test(given)) throw new WebOptionError("--web-token must be 16 to 128 characters of A-Z, a-z, 0-9, _ and - (it goes in the URL as it is)");
  if (given !== undefined) return given;
  return isLoopbackHost(host) ? undefined : randomBytes(16).toString("base64url");
}

/** Whether a request shows the token (as `?token=`), compared in constant time. */
export function showsToken(url: URL, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = url.searchParams.get("token");
  if (given === null) return false;
  // Hashed first: equal lengths for the comparison, and the length says nothing.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * Without a token, a loopback viewer must be asked for by a loopback name:
 * a web page elsewhere that points its own host name at 127.0.0.1 (DNS
 * rebinding) would otherwise read the stream through the user's browser.
 */
export function hostHeaderAllowed(hostHeader: string | null, token: string | undefined): boolean {
  if (token !== undefined) return true;
  if (hostHeader === null) return false;
  const name = hostHeader.startsWith("[") ? hostHeader.slice(1, hostHeader.indexOf("]")) : hostHeader.split(":")[0]!;
  return isLoopbackHost(name);
}

/** The address to show in a URL: an IPv6 literal in brackets. */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The page's URL on `host`, with the token when one is needed. */
export function viewerUrl(host: string, port: number, token: string | undefined): string {
  return `http://${urlHost(host)}:${port}/${token === undefined ? "" : `?token=${token}`}`;
}
