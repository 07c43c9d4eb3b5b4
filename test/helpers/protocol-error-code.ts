import { ProtocolError } from "../../src/protocol/protocol-error.ts";

/** The ProtocolError code `fn` throws (undefined if it throws none); any other error fails the test. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return undefined;
}
