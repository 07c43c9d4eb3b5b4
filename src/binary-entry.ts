// The entry point of the compiled binaries (scripts/build.ts). It runs the
// program unconditionally: in executables compiled through
// Bun.build({ compile }) for Windows, import.meta.main is false (Bun issue
// #30084), so src/cli.ts's own check would leave udpvid.exe doing nothing
// and exiting 0.
import { runProgram } from "./cli.ts";

await runProgram();
