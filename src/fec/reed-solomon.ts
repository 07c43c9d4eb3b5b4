import { gfInv, invertMatrix, mulRow } from "./galois-field.ts";

/** Data plus parity shards in one group: GF(256) has 255 distinct non-zero points. */
export const MAX_SHARDS = 255;

export class TooManyErasuresError extends Error {
  constructor(
    readonly missing: number,
    readonly parity: number,
  ) {
    super(`${missing} shards missing, more than the ${parity} parity shards can recover`);
    this.name = "TooManyErasuresError";
  }
}

/**
 * Systematic Reed–Solomon erasure code over GF(2^8): k data shards are sent
 * as they are, plus m parity shards, and any k of the k + m recover the
 * data. Parity row j is a row of a Cauchy matrix, c[j][i] = 1 / (x_j + y_i)
 * with x_j = k + j and y_i = i: every square submatrix of a Cauchy matrix is
 * invertible, so any set of k shards can be solved for the missing data.
 * All shards of a group have the same length (pad the last data shard).
 */
export class ReedSolomon {
  /** coefficients[j][i]: weight of data shard i in parity shard j. */
  private readonly coefficients: Uint8Array[];

  constructor(
    readonly dataShards: number,
    readonly parityShards: number,
  ) {
    if (!Number.isInteger(dataShards) || dataShards < 1) throw new RangeError(`need at least 1 data shard, got ${dataShards}`);
    if (!Number.isInteger(parityShards) || parityShards < 0) throw new RangeError(`parity shards must be ≥ 0, got ${parityShards}`);
    if (dataShards + parityShards > MAX_SHARDS) {
      throw new RangeError(`${dataShards} + ${parityShards} shards exceed the ${MAX_SHARDS} GF(256) allows`);
    }
    this.coefficients = Array.from({ length: parityShards }, (_, j) =>
      Uint8Array.from({ length: dataShards }, (_, i) => gfInv((dataShards + j) ^ i)),
    );
  }

  /** Computes the m parity shards for k equal-length data shards, into `parity` if given. */
  encode(data: readonly Uint8Array[], parity?: Uint8Array[]): Uint8Array[] {
    const length = this.checkShards(data);
    const out = parity ?? Array.from({ length: this.parityShards }, () => new Uint8Array(length));
    for (let j = 0; j < this.parityShards; j++) {
      combine(this.coefficients[j]!, data, out[j]!, length);
    }
    return out;
  }

  /**
   * Fills in missing data shards. `shards` holds k data then m parity
   * shards, `undefined` where lost. Returns the k data shards; throws
   * TooManyErasuresError when fewer than k shards are present, never a guess.
   */
  reconstruct(shards: readonly (Uint8Array | undefined)[]): Uint8Array[] {
    const k = this.dataShards;
    if (shards.length !== k + this.parityShards) {
      throw new RangeError(`expected ${k + this.parityShards} shard slots, got ${shards.length}`);
    }
    const missing: number[] = [];
    for (let i = 0; i < k; i++) if (!shards[i]) missing.push(i);
    const data = shards.slice(0, k) as Uint8Array[];
    if (missing.length === 0) return data;

    const parityRows: number[] = [];
    for (let j = 0; j < this.parityShards && parityRows.length < missing.length; j++) if (shards[k + j]) parityRows.push(j);
    if (parityRows.length < missing.length) throw new TooManyErasuresError(missing.length, this.parityShards);
    const length = this.checkShards(shards.filter((s): s is Uint8Array => s !== undefined));

    // Each chosen parity row gives one equation in the missing shards:
    // Σ_{i missing} c[j][i]·d_i = parity_j ⊕ Σ_{i present} c[j][i]·d_i  (the syndrome).
    const syndromes = parityRows.map((j) => {
      const syndrome = Uint8Array.from(shards[k + j]!);
      const row = this.coefficients[j]!;
      for (let i = 0; i < k; i++) if (data[i]) xorScaled(mulRow(row[i]!), data[i]!, syndrome, length);
      return syndrome;
    });
    const system = parityRows.map((j) => Uint8Array.from(missing, (i) => this.coefficients[j]![i]!));
    const inverse = invertMatrix(system);
    const recovered = data.slice();
    missing.forEach((shardIndex, r) => {
      const shard = new Uint8Array(length);
      combine(inverse[r]!, syndromes, shard, length);
      recovered[shardIndex] = shard;
    });
    return recovered;
  }

  private checkShards(shards: readonly Uint8Array[]): number {
    const length = shards[0]?.length ?? 0;
    for (const shard of shards) {
      if (shard.length !== length) throw new RangeError(`shards must all be ${length} bytes, got one of ${shard.length}`);
    }
    return length;
  }
}

const codecs = new Map<number, ReedSolomon>();
/** A codec for k + m shards, cached by shape: building the Cauchy coefficients is not free, and frames repeat shapes. */
export function reedSolomonFor(dataShards: number, parityShards: number): ReedSolomon {
  const key = dataShards * 256 + parityShards;
  let rs = codecs.get(key);
  if (!rs) {
    if (codecs.size > 1024) codecs.clear();
    rs = new ReedSolomon(dataShards, parityShards);
    codecs.set(key, rs);
  }
  return rs;
}

/** A shard zero-padded to `size`: a group's last data chunk is shorter, but coding needs equal lengths. */
export function padShard(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length >= size) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/** out = Σ_i weights[i]·inputs[i], byte-wise over GF(256). */
function combine(weights: Uint8Array, inputs: readonly Uint8Array[], out: Uint8Array, length: number): void {
  out.fill(0, 0, length);
  for (let i = 0; i < inputs.length; i++) {
    if (weights[i] !== 0) xorScaled(mulRow(weights[i]!), inputs[i]!, out, length);
  }
}

/** out ^= c·input, with c given as its 256-byte product row. The one hot loop of the codec. */
function xorScaled(row: Uint8Array, input: Uint8Array, out: Uint8Array, length: number): void {
  let x = 0;
  if ((out.byteOffset & 3) === 0) {
    // Four lookups, one 32-bit read-modify-write (little-endian byte order, as on every platform Bun runs on).
    const words = new Uint32Array(out.buffer, out.byteOffset, length >>> 2);
    for (let w = 0; w < words.length; w++, x += 4) {
      words[w] = words[w]! ^ (row[input[x]!]! | (row[input[x + 1]!]! << 8) | (row[input[x + 2]!]! << 16) | (row[input[x + 3]!]! << 24));
    }
  }
  for (; x < length; x++) out[x] = out[x]! ^ row[input[x]!]!;
}
