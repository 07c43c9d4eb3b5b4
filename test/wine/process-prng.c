/*
 * Test-only stand-in for Windows' bcryptprimitives.dll under wine 8, which
 * lacks ProcessPrng (Windows 10+ has it; bun.exe imports it). Placed beside
 * the exe, it is found before wine's own. Real Windows never sees this file.
 */
#include <windows.h>

/* advapi32's RtlGenRandom, exported under its real name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG piece = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, piece)) return FALSE;
    data += piece;
    length -= piece;
  }
  return TRUE;
}
