// Builds libopus for a binary from Debian's opus source package, with the
// same toolchains as the window and libturbojpeg (scripts/lib/debian-cmake.ts):
// zig at glibc 2.17 for Linux, mingw-w64 for Windows. Only the decoder is
// used (src/native/opus.ts, through bun:ffi); the sender's Opus is encoded by
// ffmpeg. x86-64's SSE paths are chosen at run time by libopus itself.
// Results are kept in build/opus/<target>/.
//   bun scripts/build-opus.ts [TARGET]    builds one target's (default linux-x64); build.ts calls it too
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GLIBC_FLOOR, need, run } from "./build-sdl.ts";
import { cmakeToolchain, debianSource } from "./lib/debian-cmake.ts";

const ROOT = join(import.meta.dir, "..");
const WORK = join(ROOT, "build", "opus");

/** The library file each target's binary carries (CMake's own name for it, but on a Mac). */
const LIBRARY: Record<string, string> = {
  "linux-x64": "libopus.so.0",
  "linux-arm64": "libopus.so.0",
  "windows-x64": "libopus.dll",
};

/** macOS's comes from the same source on a Mac of its own kind (the release workflow's runner). */
const onMacFor = (target: string) => process.platform === "darwin" && target === `darwin-${process.arch}`;

export function canBuildOpus(target: string): boolean {
  return target in LIBRARY || onMacFor(target);
}

export function whyNoOpus(target: string): string {
  if (target.startsWith("darwin-")) return "libopus for macOS is built on a Mac (.github/workflows/release.yml does); this binary decodes sound with libopus's WebAssembly build";
  return `no libopus build recipe for ${target}`;
}

/** CMake options every target shares: the shared library alone, float, no programs or tests. */
const COMMON = [
  "-G", "Unix Makefiles", "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=ON",
  "-DOPUS_BUILD_PROGRAMS=OFF", "-DBUILD_TESTING=OFF", "-DOPUS_INSTALL_PKG_CONFIG_MODULE=OFF", "-DOPUS_INSTALL_CMAKE_CONFIG_MODULE=OFF",
];

/** Builds (once) libopus for a target; returns the folder and the file's name. */
export function buildOpus(target: string, log: (line: string) => void = console.log): { dir: string; file: string } {
  const onMac = onMacFor(target);
  const file = onMac ? "libopus.dylib" : LIBRARY[target];
  if (!file) throw new Error(`no libopus build recipe for ${target}`);
  const out = join(WORK, target);
  if (existsSync(join(out, file))) return { dir: out, file };
  need("cmake", "libopus builds with CMake: apt-get install cmake");
  need("make", "CMake's generator here: apt-get install make");
  const source = debianSource("opus", join(WORK, "source"));
  const build = join(WORK, `${target}-cmake`);
  mkdirSync(build, { recursive: true });
  const started = performance.now();
  const toolchain = onMac ? ["-DCMAKE_OSX_DEPLOYMENT_TARGET=11.0"] : cmakeToolchain(target, WORK);
  // Its stack protection (kept: it decodes what the network sends) needs mingw's libssp, linked in statically.
  if (target.startsWith("windows-")) toolchain.push("-DCMAKE_C_STANDARD_LIBRARIES=-Wl,-Bstatic -lssp -Wl,-Bdynamic");
  // 1.3.1's release tarball leaves out a file its CMakeLists includes, by path beside it (it only picks a default
  // build type, given here): an empty one is put there. (Debian itself builds with autotools.)
  const buildType = join(source, "opus_buildtype.cmake");
  if (!existsSync(buildType)) writeFileSync(buildType, "# the build type is given on the command line\n");
  log(`opus: configuring ${source.split("/").at(-1)} for ${target}${target.startsWith("linux-") ? ` with zig, glibc ${GLIBC_FLOOR}` : onMac ? "" : " with mingw-w64"}`);
  run(["cmake", source, ...COMMON, ...toolchain], build, "configuring libopus");
  log(`opus: compiling for ${target}`);
  run(["make", `-j${navigator.hardwareConcurrency}`, "opus"], build, "compiling libopus");
  mkdirSync(out, { recursive: true });
  copyFileSync(join(build, onMac ? "libopus.0.dylib" : file), join(out, file));
  log(`opus: ${target} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { dir: out, file };
}

if (import.meta.main) {
  try {
    buildOpus(process.argv[2] ?? "linux-x64");
  } catch (error) {
    console.error(`build-opus: ${(error as Error).message}`);
    process.exit(1);
  }
}
