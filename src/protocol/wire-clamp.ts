/** Numbers clamped into a wire field's range (rounded): a rate or a time beyond it is sent as the field's limit, never wrapped. */
export const clampU32 = (n: number) => Math.max(0, Math.min(0xffff_ffff, Math.round(n))) >>> 0;
export const clampI32 = (n: number) => Math.max(-0x8000_0000, Math.min(0x7fff_ffff, Math.round(n)));
export const clampU16 = (n: number) => Math.max(0, Math.min(0xffff, Math.round(n)));
export const clampU8 = (n: number) => Math.max(0, Math.min(0xff, Math.round(n)));
