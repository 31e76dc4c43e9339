import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPoolClassifier } from '../../../src/classify/classifier';
import { writeTestModel } from '../../helpers/onnx-builder';
import { syntheticImage } from '../../helpers/synthetic-dicom';

describe('classify: device selection and micro-batching', function () {
  this.timeout(60000);
  let tmp: string;
  let manifest: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-device-'));
    manifest = writeTestModel(tmp, 'tiny', { layers: 1, channels: 4, kernel: 3 });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('auto uses CUDA when its provider loads, else the CPU, and says which once', async () => {
    const info: Record<string, unknown>[] = [];
    const c = await WorkerPoolClassifier.create({
      manifestPath: manifest,
      device: 'auto',
      threads: 1,
      workers: 2,
      maxBatch: 8,
      onInfo: (_m, f) => info.push(f),
    });
    await c.close();
    expect(info).to.have.length(1);
    expect(info[0].provider).to.be.oneOf(['cpu', 'cuda']);
    if (info[0].provider === 'cpu') expect(String(info[0].cudaUnavailable)).to.have.length.greaterThan(0);
  });

  it('cuda either runs on CUDA or refuses to start with a message that says so', async () => {
    try {
      const c = await WorkerPoolClassifier.create({ manifestPath: manifest, device: 'cuda', threads: 1, workers: 1, maxBatch: 1 });
      await c.close();
    } catch (err) {
      expect((err as Error).message).to.match(/CUDA execution provider unavailable/);
    }
  });

  it('answers every queued image, in batches, with the same result as one at a time', async () => {
    const files = Array.from({ length: 20 }, (_, i) => {
      const f = join(tmp, `img${i}.dcm`);
      writeFileSync(f, syntheticImage({ rows: 64, columns: 64, z: i * 7 }).bytes);
      return f;
    });
    const batched = await WorkerPoolClassifier.create({ manifestPath: manifest, device: 'cpu', threads: 1, workers: 1, maxBatch: 8 });
    const single = await WorkerPoolClassifier.create({ manifestPath: manifest, device: 'cpu', threads: 1, workers: 1, maxBatch: 1 });
    try {
      const a = await Promise.all(files.map((f) => batched.classify(f)));
      const b: unknown[] = [];
      for (const f of files) b.push(await single.classify(f));
      a.forEach((o, i) => {
        expect(o.kind).to.equal('classified');
        const x = o as { scores: Record<string, number> };
        const y = b[i] as { scores: Record<string, number> };
        for (const k of Object.keys(x.scores)) expect(x.scores[k]).to.be.closeTo(y.scores[k], 1e-5);
      });
      expect(await batched.classify(join(tmp, 'missing.dcm'))).to.deep.include({ kind: 'error' });
    } finally {
      await batched.close();
      await single.close();
    }
  });
});
