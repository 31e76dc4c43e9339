import { expect } from 'chai';
import { DecodedImage } from '../../../src/classify/decode';
import { areaWeights, letterbox, normalizeImage, percentileBySelection, percentileOfSorted, prepareImage, preprocess } from '../../../src/classify/preprocess';

type ImageFields = Partial<Omit<DecodedImage, 'pixels'>> & { padding?: Uint8Array };

const base = (values: number[], rows: number, columns: number, extra: ImageFields = {}): DecodedImage => {
  const { padding, ...fields } = extra;
  return {
    rows,
    columns,
    pixels: { kind: 'values', values: Float32Array.from(values), padding },
    invert: false,
    modality: 'CT',
    sopInstanceUid: '1.2',
    sopClassUid: '1.2',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    frameIndex: 0,
    numberOfFrames: 1,
    header: {},
    ...fields,
  };
};

/** The same image as raw samples indexed through a modality table (how decoding delivers grayscale). */
const indexed = (stored: number[], table: (s: number) => number, rows: number, columns: number, padValue?: number, modality = 'CT'): DecodedImage => {
  const t = Float32Array.from({ length: 4096 }, (_, s) => table(s));
  const paddingTable = padValue === undefined ? undefined : Uint8Array.from({ length: 4096 }, (_, s) => (s === padValue ? 1 : 0));
  return { ...base([], rows, columns, { modality }), pixels: { kind: 'indexed', samples: Uint16Array.from(stored), table: t, paddingTable } };
};

describe('classify/preprocess', () => {
  it('area weights of each output sum to one (down and up)', () => {
    for (const [n, m] of [
      [512, 128],
      [100, 128],
      [7, 3],
      [256, 256],
    ]) {
      const w = areaWeights(n, m);
      for (let j = 0; j < m; j++) {
        let sum = 0;
        for (let k = 0; k < w.count[j]; k++) sum += w.weights[w.offset[j] + k];
        expect(sum).to.be.closeTo(1, 1e-12);
      }
    }
  });

  it('letterboxes keeping the aspect ratio, centred', () => {
    expect(letterbox(256, 512, 128)).to.deep.equal({ height: 64, width: 128, top: 32, left: 0 });
    expect(letterbox(512, 512, 128)).to.deep.equal({ height: 128, width: 128, top: 0, left: 0 });
  });

  it('averages 2×2 blocks when halving', () => {
    const img = base([0, 2, 4, 6, 0, 2, 4, 6, 8, 8, 8, 8, 8, 8, 8, 8], 4, 4, { modality: 'MR' });
    const { raw } = prepareImage(img, { size: 2, ctClampHu: [-1024, 3071], percentiles: [0, 100] });
    expect(Array.from(raw)).to.deep.equal([1, 5, 8, 8]);
  });

  it('equals the two-dimensional area average when rows are shared between outputs (down and up, both pixel kinds)', () => {
    // ratios that are not whole numbers: a source row straddles two output rows, so the row resized across
    // for one output row must be reused, with its other weight, for the next
    for (const [rows, columns, size] of [
      [37, 23, 16],
      [23, 37, 16],
      [5, 7, 16],
      [300, 512, 128],
    ]) {
      const stored = Array.from({ length: rows * columns }, (_, i) => (i * 7919) % 4096);
      const p = { size, ctClampHu: [-1024, 3071] as [number, number], percentiles: [0, 100] as [number, number] };
      const box = letterbox(rows, columns, size);
      const wy = areaWeights(rows, box.height);
      const wx = areaWeights(columns, box.width);
      const expected = new Float64Array(box.height * box.width);
      for (let y = 0; y < box.height; y++)
        for (let x = 0; x < box.width; x++)
          for (let a = 0; a < wy.count[y]; a++)
            for (let b = 0; b < wx.count[x]; b++)
              expected[y * box.width + x] +=
                stored[(wy.start[y] + a) * columns + wx.start[x] + b] * wy.weights[wy.offset[y] + a] * wx.weights[wx.offset[x] + b];
      for (const img of [base(stored, rows, columns, { modality: 'MR' }), indexed(stored, (s) => s, rows, columns, undefined, 'MR')]) {
        const { raw } = prepareImage(img, p);
        for (let y = 0; y < box.height; y++)
          for (let x = 0; x < box.width; x++)
            expect(raw[(box.top + y) * size + box.left + x], `${rows}×${columns} → ${size}, ${img.pixels.kind}, (${y}, ${x})`).to.be.closeTo(
              expected[y * box.width + x],
              1e-3,
            );
      }
    }
  });

  it('fills the letterbox margin with NaN, then 0 after normalisation', () => {
    const img = base([0, 100, 0, 100], 1, 4, { modality: 'MR' });
    const { raw } = prepareImage(img, { size: 4, ctClampHu: [-1024, 3071], percentiles: [0, 100] });
    expect(Number.isNaN(raw[0])).to.equal(true);
    const t = normalizeImage(raw, false, { percentiles: [0, 100] });
    expect(t[0]).to.equal(0);
    expect(Math.max(...t)).to.equal(1);
  });

  it('turns CT padding (−3024 HU outside the field of view) into air, so it cannot drive the percentiles', () => {
    const values = [-3024, -3024, 40, 60, -1000, 1000, -3024, 50, 40];
    const p = { size: 3, ctClampHu: [-1024, 3071] as [number, number], percentiles: [0, 100] as [number, number] };
    // with the padding tag: padding takes the lowest real value (−1000)
    const padded = preprocess(base(values, 3, 3, { padding: Uint8Array.from(values.map((v) => (v === -3024 ? 1 : 0))) }), p);
    expect(padded[0]).to.equal(0);
    expect(padded[2]).to.be.closeTo((40 + 1000) / 2000, 1e-6);
    // without it, the HU clamp maps −3024 to −1024 (air)
    const clamped = preprocess(base(values, 3, 3), p);
    expect(clamped[2]).to.be.closeTo((40 + 1024) / 2024, 1e-6);
    // unprotected, the padding would have squeezed all anatomy into the upper half
    const unprotected = preprocess(base(values, 3, 3), { ...p, ctClampHu: [-5000, 5000] });
    expect(unprotected[2]).to.be.closeTo((40 + 3024) / 4024, 1e-6);
  });

  it('gives the same tensor from indexed samples (table lookup) as from the modality values', () => {
    // 37×23 CT, stored 0…4095 with intercept −1024, some padding (stored 0 → −1024 before the clamp) and values beyond the clamp
    const rows = 37;
    const columns = 23;
    const stored = Array.from({ length: rows * columns }, (_, i) => (i % 11 === 0 ? 0 : (i * 997) % 4096));
    const toHu = (s: number) => s * 2 - 3000;
    const p = { size: 16, ctClampHu: [-1024, 3071] as [number, number], percentiles: [0.5, 99.5] as [number, number] };
    for (const [modality, pad] of [
      ['CT', 0],
      ['CT', undefined],
      ['MR', 0],
      ['MR', undefined],
    ] as [string, number | undefined][]) {
      const fromTable = preprocess(indexed(stored, toHu, rows, columns, pad, modality), p);
      const padding = pad === undefined ? undefined : Uint8Array.from(stored, (s) => (s === pad ? 1 : 0));
      const fromValues = preprocess(base(stored.map(toHu), rows, columns, { modality, padding }), p);
      expect(Array.from(fromTable), `${modality} padding ${pad}`).to.deep.equal(Array.from(fromValues));
    }
  });

  it('inverts MONOCHROME1', () => {
    const t = preprocess(base([0, 10], 1, 2, { invert: true, modality: 'MR' }), { size: 2, ctClampHu: [-1024, 3071], percentiles: [0, 100] });
    expect(t[0]).to.equal(1);
    expect(t[1]).to.equal(0);
  });

  it('computes numpy-style linear percentiles', () => {
    const s = Float64Array.from([1, 2, 3, 4]);
    expect(percentileOfSorted(s, 50)).to.equal(2.5);
    expect(percentileOfSorted(s, 0)).to.equal(1);
    expect(percentileOfSorted(s, 100)).to.equal(4);
    expect(percentileOfSorted(s, 10)).to.be.closeTo(1.3, 1e-12);
  });

  it('finds percentiles by selection exactly as by sorting', () => {
    let seed = 3;
    const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296;
    for (const n of [1, 2, 3, 10, 1000, 16384]) {
      const values = Float64Array.from({ length: n }, () => Math.round(rnd() * 50) - 25);
      const sorted = Float64Array.from(values).sort();
      for (const q of [0, 0.5, 1, 50, 99, 99.5, 100])
        expect(percentileBySelection(Float64Array.from(values), q), `n=${n} q=${q}`).to.equal(percentileOfSorted(sorted, q));
    }
  });

  it('maps a flat image to zeros instead of dividing by zero', () => {
    expect(Array.from(preprocess(base([5, 5, 5, 5], 2, 2, { modality: 'MR' }), { size: 2, ctClampHu: [-1024, 3071], percentiles: [1, 99] }))).to.deep.equal([
      0, 0, 0, 0,
    ]);
  });
});
