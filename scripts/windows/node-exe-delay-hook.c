/*
 * Part of the Windows SDL addon (scripts/build-sdl.ts). The addon imports the
 * Node-API functions from "node.exe" through a delay-load import library, so
 * nothing is resolved until the first call. udpvid.exe is a Bun executable,
 * not node.exe: when the delay-load helper is about to load "node.exe", this
 * hook hands it the running executable instead, which exports every napi_*
 * function itself.
 */
#include <windows.h>
#include <delayimp.h>

static FARPROC WINAPI resolve_node_exe(unsigned event, PDelayLoadInfo info) {
  if (event == dliNotePreLoadLibrary && lstrcmpiA(info->szDll, "node.exe") == 0) {
    return (FARPROC)GetModuleHandleA(NULL);
  }
  return NULL;
}

/* mingw's delay-load helper (__delayLoadHelper2 in libmingwex) calls this hook. */
PfnDliHook __pfnDliNotifyHook2 = resolve_node_exe;
