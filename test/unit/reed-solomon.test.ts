import { describe, expect, test } from "bun:test";
import { EXP, gfInv, gfMul, invertMatrix, LOG } from "../../src/fec/galois-field.ts";
import { ReedSolomon, TooManyErasuresError } from "../../src/fec/reed-solomon.ts";
import { seededRandom } from "../../src/util/random.ts";

function randomShards(count: number, length: number, random: () => number): Uint8Array[] {
  return Array.from({ length: count }, () => Uint8Array.from({ length }, () => Math.floor(random() * 256)));
}

function* subsets(n: number, size: number, start = 0): Generator<number[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = start; i <= n - size; i++) for (const rest of subsets(n, size - 1, i + 1)) yield [i, ...rest];
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("GF(256)", () => {
  test("log and exp tables are inverse bijections on the non-zero elements", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 255; i++) seen.add(EXP[i]!);
    expect(seen.size).toBe(255);
    for (let a = 1; a < 256; a++) expect(EXP[LOG[a]!]).toBe(a);
  });

  test("multiplication agrees with carry-less multiply mod 0x11d, and every element has an inverse", () => {
    const slowMul = (a: number, b: number) => {
      let product = 0;
      for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) product ^= a << bit;
      for (let bit = 15; bit >= 8; bit--) if (product & (1 << bit)) product ^= 0x11d << (bit - 8);
      return product;
    };
    for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b += 7) expect(gfMul(a, b)).toBe(slowMul(a, b));
    for (let a = 1; a < 256; a++) expect(gfMul(a, gfInv(a))).toBe(1);
    expect(() => gfInv(0)).toThrow("no inverse");
  });

  test("matrix inverse times matrix is the identity; a singular matrix is refused", () => {
    const random = seededRandom(3);
    for (let n = 1; n <= 8; n++) {
      const m = Array.from({ length: n }, (_, i) => Uint8Array.from({ length: n }, (_, j) => gfInv((n + i) ^ j)));
      const inv = invertMatrix(m);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let t = 0; t < n; t++) sum ^= gfMul(m[i]![t]!, inv[t]![j]!);
          expect(sum).toBe(i === j ? 1 : 0);
        }
    }
    const row = Uint8Array.from({ length: 3 }, () => 1 + Math.floor(random() * 255));
    expect(() => invertMatrix([row, Uint8Array.from(row)])).toThrow("singular");
  });
});

describe("ReedSolomon", () => {
  test("parity matches a plain reference computation of the Cauchy code", () => {
    const random = seededRandom(11);
    const [k, m, length] = [7, 3, 37];
    const data = randomShards(k, length, random);
    const parity = new ReedSolomon(k, m).encode(data);
    for (let j = 0; j < m; j++)
      for (let x = 0; x < length; x++) {
        let expected = 0;
        for (let i = 0; i < k; i++) expected ^= gfMul(gfInv((k + j) ^ i), data[i]![x]!);
        expect(parity[j]![x]).toBe(expected);
      }
  });

  test.each([
    [1, 1],
    [3, 2],
    [5, 3],
    [8, 4],
    [10, 5],
  ])("k=%i, m=%i: every pattern of up to m erasures recovers the exact bytes", (k, m) => {
    const random = seededRandom(k * 100 + m);
    const rs = new ReedSolomon(k, m);
    const data = randomShards(k, 33, random);
    const all = [...data, ...rs.encode(data)];
    let patterns = 0;
    for (let lost = 0; lost <= m; lost++) {
      for (const erased of subsets(k + m, lost)) {
        const shards: (Uint8Array | undefined)[] = all.map((s) => Uint8Array.from(s));
        for (const i of erased) shards[i] = undefined;
        const recovered = rs.reconstruct(shards);
        recovered.forEach((shard, i) => expect(same(shard, data[i]!)).toBe(true));
        patterns++;
      }
    }
    expect(patterns).toBeGreaterThan(k); // the loop really ran over the patterns
  });

  test("large groups: random erasure patterns up to m recover; more than m is reported, never mis-decoded", () => {
    const random = seededRandom(99);
    for (const [k, m] of [
      [64, 16],
      [48, 12],
      [200, 55],
    ] as const) {
      const rs = new ReedSolomon(k, m);
      const data = randomShards(k, 64, random);
      const all = [...data, ...rs.encode(data)];
      for (let trial = 0; trial < 20; trial++) {
        const order = all.map((_, i) => i).sort(() => random() - 0.5);
        const lost = Math.floor(random() * (m + 1));
        const shards: (Uint8Array | undefined)[] = all.slice();
        for (const i of order.slice(0, lost)) shards[i] = undefined;
        rs.reconstruct(shards).forEach((shard, i) => expect(same(shard, data[i]!)).toBe(true));
        // One more than m, with at least one data shard among them: refused with a typed error.
        const tooMany: (Uint8Array | undefined)[] = all.slice();
        tooMany[0] = undefined;
        for (const i of order.filter((i) => i !== 0).slice(0, m)) tooMany[i] = undefined;
        expect(() => rs.reconstruct(tooMany)).toThrow(TooManyErasuresError);
      }
    }
  });

  test("with no data shard missing, nothing is computed and the data comes back as it is", () => {
    const rs = new ReedSolomon(4, 2);
    const data = randomShards(4, 10, seededRandom(5));
    const recovered = rs.reconstruct([...data, undefined, undefined]);
    recovered.forEach((shard, i) => expect(shard).toBe(data[i]!));
  });

  test("unequal shard lengths and bad geometry are refused", () => {
    expect(() => new ReedSolomon(0, 1)).toThrow("at least 1 data shard");
    expect(() => new ReedSolomon(200, 56)).toThrow("exceed the 255");
    expect(() => new ReedSolomon(2, 1).encode([new Uint8Array(3), new Uint8Array(4)])).toThrow("must all be 3 bytes");
    expect(() => new ReedSolomon(2, 1).reconstruct([new Uint8Array(3)])).toThrow("expected 3 shard slots");
  });

  test("odd lengths and unaligned input views recover exactly", () => {
    const random = seededRandom(8);
    const rs = new ReedSolomon(5, 2);
    const backing = Uint8Array.from({ length: 5 * 31 + 1 }, () => Math.floor(random() * 256));
    const data = Array.from({ length: 5 }, (_, i) => backing.subarray(1 + i * 31, 1 + (i + 1) * 31));
    const parity = rs.encode(data);
    const shards: (Uint8Array | undefined)[] = [...data, ...parity];
    shards[1] = undefined;
    shards[4] = undefined;
    const recovered = rs.reconstruct(shards);
    expect(same(recovered[1]!, data[1]!)).toBe(true);
    expect(same(recovered[4]!, data[4]!)).toBe(true);
  });
});
