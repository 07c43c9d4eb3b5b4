/*
 * Arithmetic in GF(2^8), the field Reed–Solomon erasure codes work in:
 * addition is XOR; multiplication uses log/exp tables over the primitive
 * polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) with generator 2.
 */
const PRIMITIVE_POLYNOMIAL = 0x11d;

export const EXP = new Uint8Array(512);
export const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= PRIMITIVE_POLYNOMIAL;
  }
  // Doubled so EXP[LOG[a] + LOG[b]] needs no modulo.
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

export function gfInv(a: number): number {
  if (a === 0) throw new RangeError("0 has no inverse in GF(256)");
  return EXP[255 - LOG[a]!]!;
}

/**
 * Full 256×256 product table: MUL_TABLE[c * 256 + x] = c·x. The hot loops
 * take the 256-byte row for one coefficient and then need a single lookup
 * per byte, which measured faster than log/exp with its zero checks.
 */
export const MUL_TABLE = new Uint8Array(256 * 256);
for (let c = 0; c < 256; c++) for (let x = 0; x < 256; x++) MUL_TABLE[c * 256 + x] = gfMul(c, x);

export function mulRow(coefficient: number): Uint8Array {
  return MUL_TABLE.subarray(coefficient * 256, coefficient * 256 + 256);
}

/** Inverts a square matrix over GF(256) by Gauss–Jordan elimination; throws if it is singular. */
export function invertMatrix(matrix: Uint8Array[]): Uint8Array[] {
  const n = matrix.length;
  const a = matrix.map((row) => Uint8Array.from(row));
  const inv = Array.from({ length: n }, (_, i) => {
    const row = new Uint8Array(n);
    row[i] = 1;
    return row;
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    while (pivot < n && a[pivot]![col] === 0) pivot++;
    if (pivot === n) throw new RangeError("matrix is singular");
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [inv[col], inv[pivot]] = [inv[pivot]!, inv[col]!];
    const scale = mulRow(gfInv(a[col]![col]!));
    for (let j = 0; j < n; j++) {
      a[col]![j] = scale[a[col]![j]!]!;
      inv[col]![j] = scale[inv[col]![j]!]!;
    }
    for (let row = 0; row < n; row++) {
      const factor = a[row]![col]!;
      if (row === col || factor === 0) continue;
      const f = mulRow(factor);
      for (let j = 0; j < n; j++) {
        a[row]![j]! ^= f[a[col]![j]!]!;
        inv[row]![j]! ^= f[inv[col]![j]!]!;
      }
    }
  }
  return inv;
}
