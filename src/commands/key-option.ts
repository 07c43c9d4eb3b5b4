import { readFileSync } from "node:fs";
import { KEY_BYTES } from "../protocol/v2-seal.ts";
import { UsageError } from "./command-line.ts";

const FORMATS = `${KEY_BYTES} raw bytes, ${KEY_BYTES * 2} hex digits or base64 of ${KEY_BYTES} bytes (make one with: udpvid keygen > FILE)`;

/** A pre-shared key from its text or bytes: raw, hex or base64. Throws a one-line reason naming `where`. */
export function parseKey(bytes: Uint8Array, where: string): Uint8Array {
  if (bytes.length === KEY_BYTES) return new Uint8Array(bytes);
  const text = new TextDecoder().decode(bytes).trim();
  if (/^[0-9a-fA-F]+$/.test(text)) {
    if (text.length === KEY_BYTES * 2) return Uint8Array.from(Buffer.from(text, "hex"));
  } else if (/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, "base64");
    if (decoded.length === KEY_BYTES) return Uint8Array.from(decoded);
  }
  throw new UsageError(`${where} does not hold a ${KEY_BYTES * 8}-bit key (${bytes.length} bytes): expected ${FORMATS}`);
}

/** The key named by --key FILE or --key-env VAR, if either; both at once is a usage error. */
export function loadKey(file: string | undefined, envVar: string | undefined): Uint8Array | undefined {
  if (file !== undefined && envVar !== undefined) throw new UsageError("give --key or --key-env, not both");
  if (envVar !== undefined) {
    const value = process.env[envVar];
    if (value === undefined || value === "") throw new UsageError(`--key-env: environment variable ${envVar} is not set`);
    return parseKey(new TextEncoder().encode(value), `environment variable ${envVar}`);
  }
  if (file === undefined) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : String(code);
    throw new UsageError(`--key: cannot read ${file}: ${why}`);
  }
  return parseKey(bytes, `key file ${file}`);
}

/** A fresh random key as hex, for `udpvid keygen`. */
export function generateKeyHex(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(KEY_BYTES))).toString("hex");
}
