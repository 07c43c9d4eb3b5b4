// What the native libraries a binary carries beside SDL (libturbojpeg,
// libopus) share: their source from Debian's source package, unpacked once,
// and a CMake toolchain per target, the same as the window's
// (scripts/build-sdl.ts): zig at glibc 2.17 for Linux, mingw-w64 for Windows.
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { HOST_PROCESSOR, LINUX_TARGETS, MINGW, need, run, wrappers, zig } from "../build-sdl.ts";

const ROOT = join(import.meta.dir, "..", "..");

/** Debian's `sourcePackage` source, unpacked once into `dir`; returns its folder (`sourcePackage`-version, beside the package's _ files). */
export function debianSource(sourcePackage: string, dir: string): string {
  const find = () => (existsSync(dir) ? readdirSync(dir).find((name) => name.startsWith(`${sourcePackage}-`) && !name.includes("_")) : undefined);
  const found = find();
  if (found) return join(dir, found);
  need("apt-get", `${sourcePackage}'s source comes from Debian's source package`);
  need("dpkg-source", "apt-get source unpacks with it: apt-get install dpkg-dev");
  mkdirSync(dir, { recursive: true });
  try {
    run(["apt-get", "source", "--quiet", sourcePackage], dir, `apt-get source ${sourcePackage}`);
  } catch (error) {
    throw new Error(`cannot fetch ${sourcePackage}'s source: ${(error as Error).message.split("\n").at(-1)}; enable deb-src in /etc/apt/sources.list.d/debian.sources ("Types: deb deb-src"), then apt-get update`);
  }
  const unpacked = find();
  if (!unpacked) throw new Error(`apt-get source ${sourcePackage} left no ${sourcePackage}-* folder in ${dir}`);
  return join(dir, unpacked);
}

/**
 * CMake options that cross-build a shared library for `target` from this
 * Linux x64 machine, stripped as it links. `work` holds the compiler
 * wrappers; `nasm` when the library's x86-64 SIMD is NASM assembly.
 */
export function cmakeToolchain(target: string, work: string, options: { nasm?: boolean } = {}): string[] {
  if (target.startsWith("windows-")) {
    need(`${MINGW}-gcc`, "the Windows build uses mingw-w64: apt-get install gcc-mingw-w64-x86-64");
    if (options.nasm) need("nasm", "its x86-64 SIMD is NASM assembly: apt-get install nasm");
    return [
      "-DCMAKE_SYSTEM_NAME=Windows", "-DCMAKE_SYSTEM_PROCESSOR=AMD64",
      // The default install prefix can be a Windows path that CMake on Linux refuses; nothing is installed anyway.
      `-DCMAKE_INSTALL_PREFIX=${join(work, `${target}-install`)}`,
      `-DCMAKE_C_COMPILER=${MINGW}-gcc`, `-DCMAKE_RC_COMPILER=${MINGW}-windres`,
      ...(options.nasm ? ["-DCMAKE_ASM_NASM_COMPILER=nasm"] : []),
      `-DCMAKE_FIND_ROOT_PATH=/usr/${MINGW}`, "-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER",
      // Static libgcc: the DLL then needs nothing beyond Windows' own.
      "-DCMAKE_SHARED_LINKER_FLAGS=-s -static-libgcc",
    ];
  }
  const recipe = LINUX_TARGETS[target];
  if (!recipe) throw new Error(`no build recipe for ${target}`);
  process.env.ZIG_GLOBAL_CACHE_DIR ??= join(ROOT, "build", "sdl", "zig-cache");
  process.env.ZIG_LOCAL_CACHE_DIR ??= join(ROOT, "build", "sdl", "zig-cache");
  const { cc } = wrappers(zig(), recipe.zig, join(work, `${target}-bin`));
  const nasm = options.nasm && recipe.processor === "x86_64";
  if (nasm) need("nasm", "its x86-64 SIMD is NASM assembly: apt-get install nasm");
  return [
    `-DCMAKE_C_COMPILER=${cc}`, `-DCMAKE_ASM_COMPILER=${cc}`,
    ...(nasm ? ["-DCMAKE_ASM_NASM_COMPILER=nasm"] : []),
    // stripped as it links: the host's strip knows only the host's processor
    "-DCMAKE_SHARED_LINKER_FLAGS=-s",
    ...(recipe.processor !== HOST_PROCESSOR ? ["-DCMAKE_SYSTEM_NAME=Linux", `-DCMAKE_SYSTEM_PROCESSOR=${recipe.processor}`] : []),
  ];
}
