import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassifyOutcome } from '../../../src/classify/classification';
import { MAX_CRASHES_PER_OBJECT, WorkerPoolClassifier } from '../../../src/classify/classifier';
import { SHIPPED_MODEL } from '../../../src/config/load';

/**
 * A stand-in for the inference worker, speaking its protocol: it dies (process.exit in a worker
 * ends only that thread) on any batch holding a path with "crash", throws on "throw", dies once
 * on "flaky" (a marker file remembers), and answers everything else at once.
 */
const FAKE_WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.postMessage({ type: 'ready', provider: 'fake' });
parentPort.on('message', (req) => {
  for (const j of req.jobs) {
    if (j.path.includes('crash')) process.exit(7);
    if (j.path.includes('throw')) throw new Error('boom in ' + j.path);
    if (j.path.includes('flaky') && !fs.existsSync(j.path + '.seen')) { fs.writeFileSync(j.path + '.seen', ''); process.exit(9); }
  }
  parentPort.postMessage({ type: 'results', results: req.jobs.map((j) => ({ id: j.id, ms: 0, outcome: { kind: 'skipped', reason: 'fake ' + j.path.split('/').pop() } })) });
});
`;

describe('classify/classifier: worker pool when a worker dies', function () {
  this.timeout(20000);
  let tmp: string;
  let pool: WorkerPoolClassifier | undefined;
  const warnings: string[] = [];

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-pool-'));
    const script = join(tmp, 'fake-worker.js');
    writeFileSync(script, FAKE_WORKER);
    warnings.length = 0;
    pool = await WorkerPoolClassifier.create({
      manifestPath: SHIPPED_MODEL,
      device: 'cpu',
      threads: 1,
      workers: 2,
      maxBatch: 8,
      workerScript: script,
      onWarn: (m) => warnings.push(m),
    });
  });
  afterEach(async () => {
    await pool?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const reasonOf = (o: ClassifyOutcome) => (o.kind === 'skipped' ? o.reason : o.kind === 'error' ? `error: ${o.message}` : o.kind);

  it('replaces a dead worker, retries only its jobs, and gives up on the object that kills workers', async () => {
    const paths = ['a', 'b', 'c', 'crash-me', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'].map((n) => join(tmp, n));
    const outcomes = await Promise.all(paths.map((p) => (pool as WorkerPoolClassifier).classify(p)));
    outcomes.forEach((o, i) => {
      if (paths[i].endsWith('crash-me'))
        expect(reasonOf(o)).to.match(new RegExp(`^error: classifier worker died ${MAX_CRASHES_PER_OBJECT} times on this object`));
      else expect(reasonOf(o), paths[i]).to.equal(`fake ${paths[i].split('/').pop()}`);
    });
    expect(warnings.filter((w) => w.startsWith('classifier worker died'))).to.have.length(MAX_CRASHES_PER_OBJECT);
    // the pool is whole again: later objects are classified
    expect(reasonOf(await (pool as WorkerPoolClassifier).classify(join(tmp, 'later')))).to.equal('fake later');
  });

  it('an object whose first try met a dying worker is classified on the retry', async () => {
    const [flaky, other] = await Promise.all([join(tmp, 'flaky'), join(tmp, 'other')].map((p) => (pool as WorkerPoolClassifier).classify(p)));
    expect(reasonOf(flaky)).to.equal('fake flaky');
    expect(reasonOf(other)).to.equal('fake other');
  });

  it('an exception inside a worker counts as its death too', async () => {
    const o = await (pool as WorkerPoolClassifier).classify(join(tmp, 'throw-me'));
    expect(reasonOf(o)).to.match(/^error: classifier worker died 2 times on this object: boom in/);
  });
});

describe('classify/classifier: more than one worker on CUDA', function () {
  this.timeout(20000);

  /** A pool of `workers` stand-in workers that say they run on `provider`; the warnings it gave at start. */
  async function startWarnings(provider: string, workers: number): Promise<string[]> {
    const tmp = mkdtempSync(join(tmpdir(), 'bodyroute-pool-'));
    const script = join(tmp, 'ready-worker.js');
    // listening keeps the stand-in alive until the pool closes it
    writeFileSync(
      script,
      `const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => {}); parentPort.postMessage({ type: 'ready', provider: '${provider}' });`,
    );
    const warnings: string[] = [];
    const pool = await WorkerPoolClassifier.create({
      manifestPath: SHIPPED_MODEL,
      device: 'auto',
      threads: 1,
      workers,
      maxBatch: 8,
      workerScript: script,
      onWarn: (m) => warnings.push(m),
    });
    await pool.close();
    rmSync(tmp, { recursive: true, force: true });
    return warnings;
  }

  it('warns once at start that one worker is the measured setting', async () => {
    const warnings = await startWarnings('cuda', 4);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/several workers on CUDA .* set classifier\.workers: 1/);
  });

  it('says nothing for one CUDA worker, or for CPU workers', async () => {
    expect(await startWarnings('cuda', 1)).to.deep.equal([]);
    expect(await startWarnings('cpu', 4)).to.deep.equal([]);
  });
});
