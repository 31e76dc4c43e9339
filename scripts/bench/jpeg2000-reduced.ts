/**
 * npm run bench:j2k -- --data DIR [--images N] [--model MANIFEST] [--seed N] — what decoding JPEG 2000 at a reduced
 * resolution level changes, on real images: N CT/MR images of the labelled folder (manifest.csv) larger
 * than the model's input are re-encoded as JPEG 2000 lossless (gdcmconv --j2k) and classified twice, from
 * the full decode and from the reduced one. Prints decode times, how often the two agree on the region,
 * the largest change of a region probability and top-1 against the labels for both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { decide, Decision } from '../../src/classify/classification';
import { decodeForClassification, DecodedImage } from '../../src/classify/decode';
import { readLabels } from '../../src/classify/labels';
import { loadManifest, modelLabel } from '../../src/classify/manifest';
import { mulberry32 } from '../../src/classify/metrics';
import { preprocess } from '../../src/classify/preprocess';
import { initCodecs } from '../../src/dicom/codecs';
import { initReducedJpeg2000 } from '../../src/dicom/jpeg2000-reduced';
import { SHIPPED_MODEL } from '../../src/config/load';
import { runMain } from './run-main';

/** A seeded shuffle, so that a run can be repeated. */
function shuffled<T>(items: T[], seed: number): T[] {
  const rnd = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { data: { type: 'string' }, images: { type: 'string' }, model: { type: 'string' }, seed: { type: 'string' } },
  });
  if (!values.data) throw new Error('usage: npm run bench:j2k -- --data DIR [--images N] [--model MANIFEST]');
  const manifest = loadManifest(values.model ?? SHIPPED_MODEL);
  const size = manifest.preprocessing.size;
  await Promise.all([initCodecs(), initReducedJpeg2000()]);
  const session = await ort.InferenceSession.create(manifest.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  // the router's own decision (calibrated scores, the pixels' best region), without header evidence
  const classify = async (image: DecodedImage): Promise<Decision> => {
    const input = new ort.Tensor('float32', preprocess(image, manifest.preprocessing), [1, 1, size, size]);
    const out = await session.run({ [manifest.input.name]: input });
    return decide(out[manifest.output.name].data as Float32Array, manifest.classes, manifest.temperature, manifest.unknownThreshold);
  };
  const rows = shuffled(readLabels(join(values.data, 'manifest.csv')), Number(values.seed ?? 1));
  const wanted = Number(values.images ?? 300);
  const dir = mkdtempSync(join(tmpdir(), 'bench-j2k-'));
  const t = { full: [] as number[], reduced: [] as number[] };
  let n = 0;
  let agree = 0;
  let maxChange = 0;
  const right = { full: 0, reduced: 0 };
  try {
    for (const row of rows) {
      if (n >= wanted) break;
      const original = readFileSync(join(values.data, row.file));
      const o = decodeForClassification(original);
      // only images the reduced decode applies to (at least twice the size wanted) are worth converting
      if (o.kind !== 'image' || Math.max(o.image.rows, o.image.columns) < 2 * size) continue;
      const j2k = join(dir, 'image.dcm');
      try {
        execFileSync('gdcmconv', ['--j2k', join(values.data, row.file), j2k], { stdio: 'ignore' });
      } catch {
        continue; // gdcmconv refuses some inputs (e.g. 8-bit colour secondary captures): not what this measures
      }
      const bytes = readFileSync(j2k);
      let s = performance.now();
      const full = decodeForClassification(bytes);
      const fullMs = performance.now() - s;
      s = performance.now();
      const reduced = decodeForClassification(bytes, { reduceJpeg2000To: size });
      const reducedMs = performance.now() - s;
      if (full.kind !== 'image' || reduced.kind !== 'image' || !reduced.image.resolutionLevel) continue; // too small to reduce
      t.full.push(fullMs);
      t.reduced.push(reducedMs);
      const [p, q] = [await classify(full.image), await classify(reduced.image)];
      if (p.imageRegion === q.imageRegion) agree++;
      if (p.imageRegion === row.region) right.full++;
      if (q.imageRegion === row.region) right.reduced++;
      maxChange = Math.max(maxChange, ...Object.keys(p.scores).map((k) => Math.abs(p.scores[k] - q.scores[k])));
      n++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const pct = (k: number) => `${((100 * k) / n).toFixed(1)} %`;
  console.log(`model ${modelLabel(manifest)}; ${n} images re-encoded as JPEG 2000 lossless (gdcmconv --j2k)`);
  console.log(`decode for classification, median ms: full ${median(t.full).toFixed(2)}, reduced ${median(t.reduced).toFixed(2)}`);
  console.log(`same region from both: ${agree} of ${n} (${pct(agree)}); largest change of a region probability ${maxChange.toFixed(3)}`);
  console.log(`top-1 against the labels: full ${pct(right.full)}, reduced ${pct(right.reduced)}`);
}

runMain('npm run bench:j2k', main);
