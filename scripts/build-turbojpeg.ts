// Builds libturbojpeg for a binary from Debian's libjpeg-turbo source package,
// with the same toolchains as the window (scripts/build-sdl.ts): zig at glibc
// 2.17 for Linux, mingw-w64 for Windows. The SIMD stays: NASM's for x86-64,
// NEON for arm64. One self-contained library (TurboJPEG carries the codec
// inside it), loaded through bun:ffi (src/native/turbojpeg.ts).
// Results are kept in build/turbojpeg/<target>/.
//   bun scripts/build-turbojpeg.ts [TARGET]    builds one target's (default linux-x64); build.ts calls it too
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { GLIBC_FLOOR, HOST_PROCESSOR, LINUX_TARGETS, MINGW, need, run, wrappers, zig } from "./build-sdl.ts";

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
function turboSource(): string {
  const dir = join(WORK, "source");
  const find = () => (existsSync(dir) ? readdirSync(dir).find((name) => name.startsWith("libjpeg-turbo-")) : undefined);
  const found = find();
  if (found) return join(dir, found);
  need("apt-get", "libjpeg-turbo's source comes from Debian's source package");
  need("dpkg-source", "apt-get source unpacks with it: apt-get install dpkg-dev");
  mkdirSync(dir, { recursive: true });
  try {
    run(["apt-get", "source", "--quiet", "libjpeg-turbo"], dir, "apt-get source libjpeg-turbo");
  } catch (error) {
    throw new Error(`cannot fetch libjpeg-turbo's source: ${(error as Error).message.split("\n").at(-1)}; enable deb-src in /etc/apt/sources.list.d/debian.sources ("Types: deb deb-src"), then apt-get update`);
  }
  const unpacked = find();
  if (!unpacked) throw new Error(`apt-get source libjpeg-turbo left no libjpeg-turbo-* folder in ${dir}`);
  return join(dir, unpacked);
}

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
  let toolchain: string[];
  if (target.startsWith("windows-")) {
    need(`${MINGW}-gcc`, "the Windows build uses mingw-w64: apt-get install gcc-mingw-w64-x86-64");
    need("nasm", "libjpeg-turbo's x86-64 SIMD is NASM assembly: apt-get install nasm");
    toolchain = [
      "-DCMAKE_SYSTEM_NAME=Windows", "-DCMAKE_SYSTEM_PROCESSOR=AMD64",
      // Its default install prefix is a Windows path (c:/libjpeg-turbo-gcc64) that CMake on Linux refuses; nothing is installed anyway.
      `-DCMAKE_INSTALL_PREFIX=${join(WORK, `${target}-install`)}`,
      `-DCMAKE_C_COMPILER=${MINGW}-gcc`, `-DCMAKE_RC_COMPILER=${MINGW}-windres`, "-DCMAKE_ASM_NASM_COMPILER=nasm",
      `-DCMAKE_FIND_ROOT_PATH=/usr/${MINGW}`, "-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER",
      // Static libgcc: the DLL then needs nothing beyond Windows' own.
      "-DCMAKE_SHARED_LINKER_FLAGS=-s -static-libgcc",
    ];
  } else {
    const recipe = LINUX_TARGETS[target]!;
    process.env.ZIG_GLOBAL_CACHE_DIR ??= join(ROOT, "build", "sdl", "zig-cache");
    process.env.ZIG_LOCAL_CACHE_DIR ??= join(ROOT, "build", "sdl", "zig-cache");
    const { cc } = wrappers(zig(), recipe.zig, join(WORK, `${target}-bin`));
    if (recipe.processor === "x86_64") need("nasm", "libjpeg-turbo's x86-64 SIMD is NASM assembly: apt-get install nasm");
    toolchain = [
      `-DCMAKE_C_COMPILER=${cc}`, `-DCMAKE_ASM_COMPILER=${cc}`,
      ...(recipe.processor === "x86_64" ? ["-DCMAKE_ASM_NASM_COMPILER=nasm"] : []),
      // stripped as it links: the host's strip knows only the host's processor
      "-DCMAKE_SHARED_LINKER_FLAGS=-s",
      ...(recipe.processor !== HOST_PROCESSOR ? ["-DCMAKE_SYSTEM_NAME=Linux", `-DCMAKE_SYSTEM_PROCESSOR=${recipe.processor}`] : []),
    ];
  }
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
