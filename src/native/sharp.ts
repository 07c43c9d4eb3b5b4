import type Sharp from "sharp";

let loaded: typeof Sharp | undefined;

/**
 * sharp, loaded on first use: commands that never touch a picture (relay,
 * keygen, --help) never load libvips, nor, in a compiled binary, unpack it.
 */
export async function loadSharp(): Promise<typeof Sharp> {
  return (loaded ??= (await import("sharp")).default);
}
