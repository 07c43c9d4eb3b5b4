// Builds libturbojpeg for a binary from Debian's libjpeg-turbo source package,
// with the same toolchains as the window (scripts/build-sdl.ts): zig at glibc
// 2.17 for Linux, mingw-w64 for Windows. The SIMD stays: NASM's for x86-64,
// NEON for arm64. One self-contained library (TurboJPEG carries the codec
// inside it), loaded through bun:ffi (src/native/turbojpeg.ts).
// Results are kept in build/turbojpeg/<target>/.
//   bun scripts/build-turbojpeg.ts [TARGET]    builds one target's (default linux-x64); build.ts calls it too
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { GLIBC_FLOOR, need, run } from "./build-sdl.ts";
import { cmakeToolchain, debianSource } from "./lib/debian-cmake.ts";

const ROOT = join(import.meta.dir, "..");
const WORK = join(ROOT, "build", "turbojpeg");

/** The library file each target's binary carries. */
const LIBRARY: Record<string, string> = {
  "linux-x64": "libturbojpeg.so.0",
  "linux-arm64": "libturbojpeg.so.0",
  "windows-x64": "libturbojpeg.dll",
};

/** macOS's comes from the same source on a Mac of its own kind (the release workflow's runner). */
const onMacFor = (target: string) => process.platform === "darwin" && target === `darwin-${process.arch}`;

export function canBuildTurboJpeg(target: string): boolean {
  return target in LIBRARY || onMacFor(target);
}

export function whyNoTurboJpeg(target: string): string {
  if (target.startsWith("darwin-")) return "libturbojpeg for macOS is built on a Mac (.github/workflows/release.yml does); this binary encodes with sharp";
  return `no libturbojpeg build recipe for ${target}`;
}

/** Debian's libjpeg-turbo source, unpacked once into build/turbojpeg/source. */
const turboSource = () => debianSource("libjpeg-turbo", join(WORK, "source"));

/** CMake options every target shares: only the TurboJPEG library, shared, with its SIMD required (a build that lost it fails). */
const COMMON = [
  "-G", "Unix Makefiles", "-DCMAKE_BUILD_TYPE=Release",
  "-DENABLE_SHARED=ON", "-DENABLE_STATIC=OFF", "-DWITH_TURBOJPEG=ON", "-DWITH_JAVA=OFF",
  "-DWITH_SIMD=ON", "-DREQUIRE_SIMD=ON", "-DWITH_JPEG8=OFF",
];

/** Builds (once) libturbojpeg for a target; returns the folder and the file's name. */
export function buildTurboJpeg(target: string, log: (line: string) => void = console.log): { dir: string; file: string } {
  if (onMacFor(target)) return buildOnMac(target, log);
  const file = LIBRARY[target];
  if (!file) throw new Error(`no libturbojpeg build recipe for ${target}`);
  const out = join(WORK, target);
  if (existsSync(join(out, file))) return { dir: out, file };
  need("cmake", "libjpeg-turbo builds with CMake: apt-get install cmake");
  need("make", "CMake's generator here: apt-get install make");
  const source = turboSource();
  const build = join(WORK, `${target}-cmake`);
  mkdirSync(build, { recursive: true });
  const started = performance.now();
  const toolchain = cmakeToolchain(target, WORK, { nasm: true });
  log(`turbojpeg: configuring ${source.split("/").at(-1)} for ${target}${target.startsWith("linux-") ? ` with zig, glibc ${GLIBC_FLOOR}` : " with mingw-w64"}`);
  run(["cmake", source, ...COMMON, ...toolchain], build, "configuring libjpeg-turbo");
  log(`turbojpeg: compiling for ${target}`);
  run(["make", `-j${navigator.hardwareConcurrency}`, "turbojpeg"], build, "compiling libjpeg-turbo");
  mkdirSync(out, { recursive: true });
  const built = target.startsWith("windows-") ? "libturbojpeg.dll" : "libturbojpeg.so.0";
  copyFileSync(join(build, built), join(out, file));
  log(`turbojpeg: ${target} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { dir: out, file };
}

/** On a Mac: the same source with the Mac's own compiler (Homebrew's nasm for x86-64). */
function buildOnMac(target: string, log: (line: string) => void): { dir: string; file: string } {
  const file = "libturbojpeg.dylib";
  const out = join(WORK, target);
  if (existsSync(join(out, file))) return { dir: out, file };
  const source = turboSource();
  const build = join(WORK, `${target}-cmake`);
  mkdirSync(build, { recursive: true });
  log(`turbojpeg: building ${source.split("/").at(-1)} for ${target}`);
  run(["cmake", source, ...COMMON, "-DCMAKE_OSX_DEPLOYMENT_TARGET=11.0"], build, "configuring libjpeg-turbo");
  run(["make", `-j${navigator.hardwareConcurrency}`, "turbojpeg"], build, "compiling libjpeg-turbo");
  mkdirSync(out, { recursive: true });
  copyFileSync(join(build, "libturbojpeg.0.dylib"), join(out, file));
  return { dir: out, file };
}

if (import.meta.main) {
  try {
    buildTurboJpeg(process.argv[2] ?? "linux-x64");
  } catch (error) {
    console.error(`build-turbojpeg: ${(error as Error).message}`);
    process.exit(1);
  }
}
