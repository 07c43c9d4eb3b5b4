import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { EMBEDDED, type NativePartName } from "./embedded.ts";
import { extractPart } from "./native-cache.ts";

/** True inside a compiled binary that carries `name`. */
export function hasEmbedded(name: NativePartName): boolean {
  return EMBEDDED?.parts[name] !== undefined;
}

/** Unpacks an embedded part (once per version and content) and returns the path of its entry file. */
export function embeddedEntry(name: NativePartName): string {
  const part = EMBEDDED?.parts[name];
  if (!EMBEDDED || !part) {
    const why = EMBEDDED?.missing[name] ?? "not a compiled build";
    throw new Error(`this udpvid (${EMBEDDED?.target ?? "from source"}) carries no ${name}: ${why}`);
  }
  return join(extractPart(part, { version: EMBEDDED.version, partName: name }), part.entry);
}

/**
 * Loads an embedded Node-API addon from the cache folder. The compiled
 * binary's copies of sharp and @kmamal/sdl call this instead of requiring
 * their addon from node_modules (scripts/build.ts swaps the loader in).
 */
export function loadEmbeddedAddon(name: "sharp" | "sdl"): unknown {
  const module = { exports: {} as unknown };
  const entry = embeddedEntry(name);
  try {
    process.dlopen(module, entry);
  } catch (error) {
    const message = (error as Error).message;
    // The loader cannot map code from a file system mounted noexec (some /tmp and home folders are).
    if (/failed to map segment|operation not permitted/i.test(message)) {
      const where = process.platform === "win32" ? "%LOCALAPPDATA%" : process.platform === "darwin" ? "~/Library/Caches" : "XDG_CACHE_HOME";
      throw new Error(`cannot load ${name} from ${dirname(entry)}: its file system does not allow running code (mounted noexec?); point ${where} at a folder that does`);
    }
    throw error;
  }
  return module.exports;
}

/**
 * Opens a library through `open` (dlopen with its symbols): the binary's
 * embedded `name`, or in a clone the first of the system's `candidates`
 * that loads (a bare name is looked up the system's way, a path only if it
 * exists). Returns it with where it came from ("embedded" or the candidate);
 * when none loads, throws what `fail` makes of what was tried and why each failed.
 */
export function openNativeLibrary<T>(name: NativePartName, candidates: string[], open: (path: string) => T, fail: (why: string) => Error): { library: T; origin: string } {
  const embedded = hasEmbedded(name);
  const tried: string[] = [];
  for (const candidate of embedded ? [embeddedEntry(name)] : candidates) {
    if (candidate.includes("/") && !existsSync(candidate)) continue;
    try {
      return { library: open(candidate), origin: embedded ? "embedded" : candidate };
    } catch (error) {
      tried.push(`${candidate}: ${(error as Error).message.split("\n")[0]}`);
    }
  }
  throw fail(tried.join("; ") || "none found");
}
