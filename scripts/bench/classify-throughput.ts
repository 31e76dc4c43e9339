/**
 * npm run bench:throughput — classification throughput of the engine bodyroute runs, on this machine:
 *   (1) the model alone: onnxruntime on the chosen device at batch sizes 1…256 (images/s);
 *   (2) the whole classifier: WorkerPoolClassifier (read + decode + preprocess + inference in worker
 *       threads, micro-batching) over N synthetic 512×512 CT files.
 * Usage: node dist/scripts/bench/classify-throughput.js [--device cpu|cuda] [--workers W] [--threads T]
 *        [--batch B] [--images N] [--rate R] [--json FILE]
 * --rate R submits the images at R per second instead of all at once, as a scanner's association delivers
 * them to the router: the workers then see small batches, and the CPU per image shows what each run costs.
 * With --device cuda it fails (rather than falling back) when onnxruntime's CUDA provider cannot load, and
 * (3) compares its scores with the CPU's on the same files: the two providers must give the same regions.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { ClassifyOutcome } from '../../src/classify/classification';
import { WorkerPoolClassifier } from '../../src/classify/classifier';
import { loadManifest, modelLabel } from '../../src/classify/manifest';
import { SHIPPED_MODEL } from '../../src/config/load';
import { syntheticImage } from '../../test/helpers/synthetic-dicom';
import { runMain } from './run-main';

async function modelAlone(
  modelPath: string,
  inputName: string,
  size: number,
  device: string,
  threads: number,
): Promise<{ batch: number; imagesPerSecond: number; msPerBatch: number }[]> {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: [device],
  });
  const rows = [];
  for (const batch of [1, 8, 32, 128, 256]) {
    const input = new ort.Tensor(
      'float32',
      new Float32Array(batch * size * size).map((_, i) => (i % 251) / 251),
      [batch, 1, size, size],
    );
    for (let i = 0; i < 3; i++) await session.run({ [inputName]: input });
    let runs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500 || runs < 5) {
      await session.run({ [inputName]: input });
      runs++;
    }
    const ms = (performance.now() - t0) / runs;
    rows.push({ batch, imagesPerSecond: (batch * 1000) / ms, msPerBatch: ms });
    console.log(`  batch ${String(batch).padStart(4)}: ${((batch * 1000) / ms).toFixed(0).padStart(8)} images/s  (${ms.toFixed(2)} ms per run)`);
  }
  await session.release();
  return rows;
}

/** The same files classified on the CPU: how many get the same region, and the largest difference of a score. */
async function agreementWithCpu(
  manifestPath: string,
  files: string[],
  elsewhere: ClassifyOutcome[],
): Promise<{ images: number; sameRegion: number; maxScoreDifference: number }> {
  const cpu = await WorkerPoolClassifier.create({ manifestPath, device: 'cpu', threads: 1, workers: 1, maxBatch: 16 });
  try {
    const onCpu = await Promise.all(files.map((f) => cpu.classify(f)));
    let sameRegion = 0;
    let maxScoreDifference = 0;
    onCpu.forEach((a, i) => {
      const b = elsewhere[i];
      if (a.kind !== 'classified' || b.kind !== 'classified') throw new Error(`${files[i]}: not classified on both providers`);
      if (a.region === b.region) sameRegion++;
      for (const [k, v] of Object.entries(a.scores)) maxScoreDifference = Math.max(maxScoreDifference, Math.abs(v - (b.scores[k] ?? 0)));
    });
    console.log(
      `(3) the same ${files.length} files on the CPU: the same region for ${sameRegion}, largest score difference ${maxScoreDifference.toExponential(2)}`,
    );
    return { images: files.length, sameRegion, maxScoreDifference };
  } finally {
    await cpu.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      device: { type: 'string' },
      workers: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      images: { type: 'string' },
      json: { type: 'string' },
      model: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  const device = (values.device ?? 'cpu') as 'cpu' | 'cuda';
  const workers = Number(values.workers ?? 1);
  const threads = Number(values.threads ?? 1);
  const maxBatch = Number(values.batch ?? 16);
  const n = Number(values.images ?? 500);
  const manifestPath = values.model ?? SHIPPED_MODEL;
  const manifest = loadManifest(manifestPath);
  const size = manifest.preprocessing.size;
  console.log(`model ${modelLabel(manifest)}, input ${size}x${size}; device ${device}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
  console.log(`(1) the model alone (onnxruntime, ${device}, ${threads} intra-op thread(s)):`);
  const alone = await modelAlone(manifest.modelPath, manifest.input.name, size, device, threads);

  const dir = mkdtempSync(join(tmpdir(), 'bench-throughput-'));
  try {
    const files = Array.from({ length: Math.min(n, 100) }, (_, i) => {
      const f = join(dir, `ct${i}.dcm`);
      writeFileSync(f, syntheticImage({ rows: 512, columns: 512, z: i * 3 }).bytes);
      return f;
    });
    let provider = '';
    const classifier = await WorkerPoolClassifier.create({
      manifestPath,
      device,
      threads,
      workers,
      maxBatch,
      onInfo: (_m, f) => (provider = String(f.provider)),
    });
    try {
      await Promise.all(files.slice(0, 20).map((f) => classifier.classify(f))); // warm-up
      const rate = values.rate === undefined ? undefined : Number(values.rate);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const outcomes = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          if (rate) await delay(Math.max(0, t0 + (i * 1000) / rate - performance.now()));
          return classifier.classify(files[i % files.length]);
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const failed = outcomes.filter((o) => o.kind !== 'classified').length;
      if (failed) throw new Error(`${failed} of ${n} images were not classified`);
      // every thread of this process (the workers included): what classifying one image cost the machine
      const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / n;
      const whole = { images: n, workers, threads, maxBatch, provider, rate, imagesPerSecond: n / seconds, cpuMsPerImage };
      console.log(
        `(2) the whole classifier (read + decode + preprocess + inference; ${workers} worker(s), provider ${provider}, maxBatch ${maxBatch}${rate ? `, submitted at ${rate}/s` : ''}): ${whole.imagesPerSecond.toFixed(0)} images/s over ${n} images of 512x512 CT, ${cpuMsPerImage.toFixed(2)} ms CPU per image`,
      );
      // outcomes[i] is files[i] for the first files.length images
      const agreement = device === 'cpu' ? undefined : await agreementWithCpu(manifestPath, files, outcomes.slice(0, files.length));
      if (values.json)
        writeFileSync(
          values.json,
          JSON.stringify({ model: modelLabel(manifest), device, cpus: cpus().length, cpu: cpus()[0]?.model, modelAlone: alone, whole, agreement }, null, 2) +
            '\n',
        );
    } finally {
      await classifier.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain('npm run bench:throughput', main);
