// Builds self-contained udpvid binaries: one per target, each carrying Bun,
// sharp with libvips, a static ffmpeg, and (where they can be had) libturbojpeg, libopus
// and the SDL window addon, unpacked to a cache folder on first use (src/native/).
//   bun run build [--target linux-x64 ...] [--headless] [--outdir DIR]
// Writes dist/udpvid-<os>-<arch>[.exe] and dist/SHA256SUMS, and prints what each embeds.
// --headless leaves the window out (a server build, 2–3 MB smaller, no SDL toolchain needed).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";
import { buildSdl, canBuildSdl, whyNoSdl } from "./build-sdl.ts";
import { buildTurboJpeg, canBuildTurboJpeg, whyNoTurboJpeg } from "./build-turbojpeg.ts";
import { buildOpus, canBuildOpus, whyNoOpus } from "./build-opus.ts";

const ROOT = join(import.meta.dir, "..");
const NATIVE = join(ROOT, "build", "native");

interface Target {
  name: string;
  bun: Bun.Build.CompileTarget;
  /** The platform as sharp and @ffmpeg-installer name it. */
  platform: string;
  ffmpegVersion: string;
  exe: string;
}

// @ffmpeg-installer's packages carry static ffmpeg builds inside the npm package itself.
const TARGETS: Target[] = [
  { name: "linux-x64", bun: "bun-linux-x64", platform: "linux-x64", ffmpegVersion: "4.1.0", exe: "" },
  { name: "linux-arm64", bun: "bun-linux-arm64", platform: "linux-arm64", ffmpegVersion: "4.1.4", exe: "" },
  { name: "darwin-x64", bun: "bun-darwin-x64", platform: "darwin-x64", ffmpegVersion: "4.1.0", exe: "" },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", platform: "darwin-arm64", ffmpegVersion: "4.1.5", exe: "" },
  { name: "windows-x64", bun: "bun-windows-x64", platform: "win32-x64", ffmpegVersion: "4.1.0", exe: ".exe" },
];

const { values } = parseArgs({ options: { target: { type: "string", multiple: true }, headless: { type: "boolean" }, outdir: { type: "string" } } });
const DIST = values.outdir ? resolve(values.outdir) : join(ROOT, "dist");
const wanted = values.target ?? TARGETS.map((t) => t.name);
for (const name of wanted) if (!TARGETS.some((t) => t.name === name)) throw new Error(`unknown target ${name} (known: ${TARGETS.map((t) => t.name).join(", ")})`);

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const sharpPkg = JSON.parse(readFileSync(join(ROOT, "node_modules", "sharp", "package.json"), "utf8"));
const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim() || "unknown";

/** Fetches one npm package's files (any platform's) into build/native/, once. */
function fetchPackage(name: string, version: string): string {
  const folder = join(NATIVE, `${name.replace("/", "+")}@${version}`);
  if (existsSync(join(folder, "package.json"))) return folder;
  mkdirSync(folder, { recursive: true });
  // npm pack downloads the tarball from the registry and checks its integrity, whatever the host platform.
  const packed = Bun.spawnSync(["npm", "pack", `${name}@${version}`, "--pack-destination", NATIVE, "--silent"], { cwd: ROOT, stderr: "pipe" });
  if (packed.exitCode !== 0) throw new Error(`npm pack ${name}@${version} failed: ${packed.stderr.toString().trim().split("\n").at(-1)}`);
  const tarball = join(NATIVE, packed.stdout.toString().trim().split("\n").at(-1)!);
  const untar = Bun.spawnSync(["tar", "-xzf", tarball, "-C", folder, "--strip-components=1"], { stderr: "pipe" });
  if (untar.exitCode !== 0) throw new Error(`cannot unpack ${tarball}: ${untar.stderr.toString().trim()}`);
  return folder;
}

function filesUnder(folder: string, keep: (name: string) => boolean): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .map((entry) => join(folder, entry))
    .filter((path) => statSync(path).isFile() && keep(path));
}

interface PartSource {
  entry: string;
  files: { source: string; name: string; executable: boolean }[];
}

function hashPart(part: PartSource): string {
  const hash = createHash("sha256");
  for (const file of part.files) hash.update(file.name).update(readFileSync(file.source));
  return hash.digest("hex").slice(0, 16);
}

/** Gathers each native part for a target, or the reason it cannot be had here. */
function nativeParts(target: Target): { parts: Record<string, PartSource>; missing: Record<string, string> } {
  const parts: Record<string, PartSource> = {};
  const missing: Record<string, string> = {};
  const sharpName = `@img/sharp-${target.platform}`;
  const libvipsName = `@img/sharp-libvips-${target.platform}`;
  try {
    const sharp = fetchPackage(sharpName, sharpPkg.optionalDependencies[sharpName]);
    // Kept in the packages' own layout: the addon finds libvips through its rpath (…/../../sharp-libvips-*/lib),
    // and on Windows its DLLs sit beside it.
    const files = filesUnder(join(sharp, "lib"), () => true).map((source) => ({ source, name: `sharp-${target.platform}/${relative(sharp, source)}`, executable: false }));
    if (sharpPkg.optionalDependencies[libvipsName]) {
      const libvips = fetchPackage(libvipsName, sharpPkg.optionalDependencies[libvipsName]);
      for (const source of filesUnder(join(libvips, "lib"), (p) => /libvips-cpp\./.test(p))) {
        files.push({ source, name: `sharp-libvips-${target.platform}/${relative(libvips, source)}`, executable: false });
      }
    }
    parts.sharp = { entry: `sharp-${target.platform}/lib/sharp-${target.platform}.node`, files };
  } catch (error) {
    missing.sharp = (error as Error).message;
  }
  try {
    const ffmpeg = fetchPackage(`@ffmpeg-installer/${target.platform}`, target.ffmpegVersion);
    const name = `ffmpeg${target.exe}`;
    parts.ffmpeg = { entry: `ffmpeg/${name}`, files: [{ source: join(ffmpeg, name), name: `ffmpeg/${name}`, executable: true }] };
  } catch (error) {
    missing.ffmpeg = (error as Error).message;
  }
  // libturbojpeg: JPEG from and to YUV planes (sharp stays for what it alone does, and as the fallback).
  if (canBuildTurboJpeg(target.name)) {
    const turbo = buildTurboJpeg(target.name);
    parts.turbojpeg = { entry: `turbojpeg/${turbo.file}`, files: [{ source: join(turbo.dir, turbo.file), name: `turbojpeg/${turbo.file}`, executable: false }] };
  } else {
    missing.turbojpeg = whyNoTurboJpeg(target.name);
  }
  // libopus: the receiver's sound decoder (the WebAssembly build stays the fallback).
  if (canBuildOpus(target.name)) {
    const opus = buildOpus(target.name);
    parts.opus = { entry: `opus/${opus.file}`, files: [{ source: join(opus.dir, opus.file), name: `opus/${opus.file}`, executable: false }] };
  } else {
    missing.opus = whyNoOpus(target.name);
  }
  if (values.headless) {
    missing.sdl = "built with --headless";
  } else if (canBuildSdl(target.name)) {
    // SDL itself rides along beside the addon, which finds it in its own folder (Linux: its $ORIGIN RUNPATH;
    // Windows: the addon's folder is searched for its DLLs): no system SDL needed.
    const sdl = buildSdl(target.name);
    parts.sdl = {
      entry: "sdl/sdl.node",
      files: sdl.files.map((name) => ({ source: join(sdl.dir, name), name: `sdl/${name}`, executable: false })),
    };
  } else {
    missing.sdl = whyNoSdl(target.name);
  }
  return { parts, missing };
}

/**
 * Files at least this big (ffmpeg, libvips) go into the binary zstd-compressed, unpacked once into the cache
 * folder on first use: ffmpeg's 65 MiB take 18.7 at level 9, unpacked in about 0.2 s (level 19 saves 2 MiB
 * more for 20 s of build a target). Smaller ones (SDL, libturbojpeg, libopus) are left as they are.
 */
const COMPRESS_FROM_BYTES = 4 * 2 ** 20;
const ZSTD_LEVEL = 9;

/** What a file is embedded as: itself, or its zstd-compressed copy under build/native/zstd/ and its size unpacked. */
function storedForm(source: string): { path: string; size?: number } {
  const size = statSync(source).size;
  if (size < COMPRESS_FROM_BYTES) return { path: source };
  const bytes = readFileSync(source);
  const folder = join(NATIVE, "zstd");
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}-${ZSTD_LEVEL}.zst`);
  if (!existsSync(path)) {
    // Whole or not at all: a build stopped halfway leaves no truncated copy to be embedded next time.
    writeFileSync(`${path}.${process.pid}.tmp`, Bun.zstdCompressSync(bytes, { level: ZSTD_LEVEL }));
    renameSync(`${path}.${process.pid}.tmp`, path);
  }
  return { path, size };
}

/** The replacement for src/native/embedded.ts: every file imported as an embedded file. */
function embeddedModule(target: Target, parts: Record<string, PartSource>, missing: Record<string, string>): string {
  const imports: string[] = [];
  const partLiterals = Object.entries(parts).map(([name, part]) => {
    const files = part.files.map((file) => {
      const id = `file${imports.length}`;
      const stored = storedForm(file.source);
      imports.push(`import ${id} from ${JSON.stringify(stored.path)} with { type: "file" };`);
      const compressed = stored.size === undefined ? "" : `, compressed: { size: ${stored.size} }`;
      return `{ path: ${id}, name: ${JSON.stringify(file.name)}, executable: ${file.executable}${compressed} }`;
    });
    return `${name}: { hash: ${JSON.stringify(hashPart(part))}, entry: ${JSON.stringify(part.entry)}, files: [${files.join(", ")}] }`;
  });
  return [
    ...imports,
    `export const EMBEDDED = { target: ${JSON.stringify(target.name)}, version: ${JSON.stringify(pkg.version)}, commit: ${JSON.stringify(commit)},`,
    `  parts: { ${partLiterals.join(",\n    ")} },`,
    `  missing: ${JSON.stringify(missing)} };`,
  ].join("\n");
}

/** Swaps in the target's embedded module, and points sharp's and SDL's addon loaders at the cache folder. */
function nativesPlugin(embedded: string): BunPlugin {
  const loader = JSON.stringify(join(ROOT, "src", "native", "native-parts.ts"));
  return {
    name: "udpvid-natives",
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]native[\\/]embedded\.ts$/ }, () => ({ contents: embedded, loader: "ts" }));
      build.onLoad({ filter: /[\\/]node_modules[\\/]sharp[\\/]lib[\\/]sharp\.js$/ }, () => ({
        contents: `module.exports = require(${loader}).loadEmbeddedAddon("sharp");`,
        loader: "js",
      }));
      build.onLoad({ filter: /[\\/]node_modules[\\/]@kmamal[\\/]sdl[\\/]src[\\/]javascript[\\/]bindings\.js$/ }, () => ({
        contents: `module.exports = require(${loader}).loadEmbeddedAddon("sdl");`,
        loader: "js",
      }));
    },
  };
}

mkdirSync(DIST, { recursive: true });
const report: string[] = [];
const sums: string[] = [];
let failed = 0;
for (const target of TARGETS.filter((t) => wanted.includes(t.name))) {
  const outfile = join(DIST, `udpvid-${target.name}${target.exe}`);
  const started = performance.now();
  let natives: ReturnType<typeof nativeParts>;
  try {
    natives = nativeParts(target);
  } catch (error) {
    // A missing toolchain fails the target, with its reason: never a binary quietly built without its window.
    failed++;
    console.error(`${target.name}: ${(error as Error).message}`);
    report.push(`| ${target.name} | FAILED | | ${(error as Error).message.split("\n")[0]!.slice(0, 300)} |`);
    continue;
  }
  const { parts, missing } = natives;
  const result = await Bun.build({
    // The worker is an entrypoint of its own: a compiled binary holds only the entrypoints' bundles.
    entrypoints: [join(ROOT, "src", "binary-entry.ts"), join(ROOT, "src", "source", "frame-reader-worker.ts")],
    compile: { target: target.bun, outfile, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    // JSC bytecode: the binary starts without parsing its code (first datagram 233 ms against 269, --version 50 against 80;
    // bench/results/startup.md), for 3.4 MiB more. ESM keeps binary-entry.ts's top-level await.
    bytecode: true,
    format: "esm",
    plugins: [nativesPlugin(embeddedModule(target, parts, missing))],
  }).catch((error: unknown) => ({ success: false as const, logs: [String(error)] }));
  if (!result.success) {
    failed++;
    report.push(`| ${target.name} | FAILED | | ${result.logs.map(String).join(" ").slice(0, 300)} |`);
    continue;
  }
  const bytes = readFileSync(outfile);
  sums.push(`${createHash("sha256").update(bytes).digest("hex")}  ${relative(DIST, outfile)}`);
  const missingText = Object.entries(missing).map(([name, why]) => `no ${name}: ${why}`).join("; ");
  report.push(`| ${target.name} | ${(bytes.length / 2 ** 20).toFixed(1)} MiB | ${Object.keys(parts).join(", ")} | ${missingText || "—"} |`);
  console.log(`built ${relative(ROOT, outfile)} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
// A build of some targets keeps the sums of the others' binaries still in dist/.
const sumsFile = join(DIST, "SHA256SUMS");
const sumByFile = new Map<string, string>();
const previous = existsSync(sumsFile) ? readFileSync(sumsFile, "utf8").split("\n") : [];
for (const line of [...previous, ...sums]) {
  const file = line.split("  ")[1];
  if (file && existsSync(join(DIST, file))) sumByFile.set(file, line);
}
writeFileSync(sumsFile, [...sumByFile.keys()].sort().map((file) => sumByFile.get(file)).join("\n") + "\n");
console.log(["", `udpvid ${pkg.version} (${commit})`, "", "| target | size | embeds | missing |", "|---|---|---|---|", ...report, ""].join("\n"));
if (failed > 0) {
  console.error(`${failed} target(s) failed to build`);
  process.exit(1);
}
