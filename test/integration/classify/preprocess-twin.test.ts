import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCodecs } from '../../../src/dicom/codecs';
import { exportDataset } from '../../../src/classify/dataset-export';
import { decodeForClassification } from '../../../src/classify/decode';
import { readNpyFloat32 } from '../../../src/classify/npy';
import { DEFAULT_PREPROCESS, preprocess } from '../../../src/classify/preprocess';
import { rawImage, syntheticImage } from '../../helpers/synthetic-dicom';
import { PYTHON, requirePythonModules } from '../../helpers/tools';

const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Train/serve skew is a defect: the tensor the router feeds the model and the tensor the
 * training script builds from `bodyroute dataset export` must agree for the same image.
 */
describe('classify: training preprocessing equals runtime preprocessing', function () {
  this.timeout(60000);
  let tmp: string;

  before(async function () {
    requirePythonModules(this, 'numpy');
    await initCodecs();
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-twin-'));
  });

  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('agrees within 1e-5 on CT with padding, MR, MONOCHROME1, 8-bit and non-square images', async () => {
    const ramp = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
    const fixtures: Record<string, Buffer> = {
      'ct.dcm': syntheticImage({ rows: 300, columns: 512 }).bytes,
      'ct-padded.dcm': rawImage({
        rows: 64,
        columns: 64,
        pixelRepresentation: 1,
        pixelPaddingValue: -2000,
        rescale: { slope: 1, intercept: -1024 },
        stored: ramp(4096, (i) => (i % 64 < 8 ? -2000 : (i * 7) % 1500) & 0xffff),
      }).bytes,
      'mr.dcm': rawImage({ rows: 100, columns: 80, modality: 'MR', stored: ramp(8000, (i) => (i * 37) % 3000) }).bytes,
      'mono1.dcm': rawImage({ rows: 50, columns: 50, modality: 'MR', photometric: 'MONOCHROME1', stored: ramp(2500, (i) => (i * 11) % 999) }).bytes,
      'eight.dcm': rawImage({ rows: 64, columns: 40, bitsAllocated: 8, modality: 'CT', stored: ramp(2560, (i) => (i * 3) % 256) }).bytes,
    };
    const names = Object.keys(fixtures);
    for (const n of names) writeFileSync(join(tmp, n), fixtures[n]);
    writeFileSync(join(tmp, 'labels.csv'), 'file,region\n' + names.map((n) => `${n},chest`).join('\n') + '\n');
    const out = join(tmp, 'export');
    const summary = await exportDataset({ labels: join(tmp, 'labels.csv'), images: tmp, out, params: DEFAULT_PREPROCESS });
    expect(summary.ok).to.equal(names.length);
    execFileSync(PYTHON, [join(ROOT, 'scripts', 'training', 'normalize_cli.py'), out, join(tmp, 'python.npy')]);
    const py = readNpyFloat32(readFileSync(join(tmp, 'python.npy')));
    const size = DEFAULT_PREPROCESS.size;
    expect(py.shape).to.deep.equal([names.length, size, size]);
    names.forEach((n, k) => {
      const d = decodeForClassification(fixtures[n]);
      if (d.kind !== 'image') throw new Error(n);
      const runtime = preprocess(d.image, DEFAULT_PREPROCESS);
      let maxDiff = 0;
      for (let i = 0; i < runtime.length; i++) maxDiff = Math.max(maxDiff, Math.abs(runtime[i] - py.data[k * size * size + i]));
      expect(maxDiff, n).to.be.below(1e-5);
      expect(Math.max(...runtime), n).to.be.greaterThan(0.5); // a real image, not all zeros
    });
  });
});
