/**
 * npm run bench:classify — decode + preprocess + inference time per 512×512 CT image,
 * per transfer syntax, on the CPU with one and two onnxruntime threads.
 * Usage: node dist/scripts/bench/classify.js [--model MANIFEST] [--images N]
 * (the JPEG 2000 rows: decoded in full, and at the resolution level nearest the model's input)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { initCodecs } from '../../src/dicom/codecs';
import { initReducedJpeg2000 } from '../../src/dicom/jpeg2000-reduced';
import { decodeForClassification } from '../../src/classify/decode';
import { loadManifest, modelLabel } from '../../src/classify/manifest';
import { preprocess } from '../../src/classify/preprocess';
import { SHIPPED_MODEL } from '../../src/config/load';
import { syntheticImage } from '../../test/helpers/synthetic-dicom';
import { runMain } from './run-main';

const SYNTAXES: { name: string; tool?: string; args?: string[]; reduced?: boolean }[] = [
  { name: 'explicit VR LE' },
  { name: 'implicit VR LE', tool: 'dcmconv', args: ['+ti'] },
  { name: 'explicit VR BE', tool: 'dcmconv', args: ['+tb'] },
  { name: 'deflated', tool: 'dcmconv', args: ['+td'] },
  { name: 'RLE', tool: 'dcmcrle', args: [] },
  { name: 'JPEG lossless SV1', tool: 'dcmcjpeg', args: ['+e1'] },
  { name: 'JPEG-LS lossless', tool: 'dcmcjpls', args: [] },
  { name: 'JPEG 2000 lossless', tool: 'gdcmconv', args: ['--j2k'] },
  // classifier.jpeg2000: reduced — decoded at the resolution level nearest the model's input
  { name: 'JPEG 2000, reduced', tool: 'gdcmconv', args: ['--j2k'], reduced: true },
];

const have = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { model: { type: 'string' }, images: { type: 'string' } } });
  const manifest = loadManifest(values.model ?? SHIPPED_MODEL);
  const n = Number(values.images ?? 30);
  await Promise.all([initCodecs(), initReducedJpeg2000()]);
  const dir = mkdtempSync(join(tmpdir(), 'bench-classify-'));
  try {
    const sources = Array.from({ length: n }, (_, i) => {
      const f = join(dir, `src${i}.dcm`);
      writeFileSync(f, syntheticImage({ rows: 512, columns: 512, z: i * 5 }).bytes);
      return f;
    });
    const size = manifest.preprocessing.size;
    console.log(`model ${modelLabel(manifest)}, input ${size}x${size}; ${n} images of 512x512 CT per syntax; ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`);
    console.log('');
    console.log('syntax                decode ms  preprocess ms  infer ms (1 thr)  infer ms (2 thr)  total ms (1 thr)');
    const sessions = await Promise.all(
      [1, 2].map((t) =>
        ort.InferenceSession.create(manifest.modelPath, {
          intraOpNumThreads: t,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          executionProviders: ['cpu'],
        }),
      ),
    );
    const rows: Record<string, number | string>[] = [];
    for (const s of SYNTAXES) {
      if (s.tool && !have(s.tool)) {
        console.log(`${s.name.padEnd(20)}  (skipped: ${s.tool} not installed)`);
        continue;
      }
      const files = sources.map((f, i) => {
        if (!s.tool) return f;
        const out = join(dir, `${s.name.replace(/\W+/g, '_')}-${i}.dcm`);
        execFileSync(s.tool, [...(s.args ?? []), f, out]);
        return out;
      });
      const decodeMs: number[] = [];
      const prepMs: number[] = [];
      const inferMs: number[][] = [[], []];
      for (const f of files) {
        const bytes = readFileSync(f);
        let t = performance.now();
        const d = decodeForClassification(bytes, s.reduced ? { reduceJpeg2000To: manifest.preprocessing.size } : {});
        decodeMs.push(performance.now() - t);
        if (d.kind !== 'image') throw new Error(`${f}: ${d.reason}`);
        t = performance.now();
        const tensor = preprocess(d.image, manifest.preprocessing);
        prepMs.push(performance.now() - t);
        for (const k of [0, 1]) {
          const input = new ort.Tensor('float32', tensor, [1, 1, size, size]);
          t = performance.now();
          await sessions[k].run({ [manifest.input.name]: input });
          inferMs[k].push(performance.now() - t);
        }
      }
      const row = { syntax: s.name, decode: median(decodeMs), preprocess: median(prepMs), infer1: median(inferMs[0]), infer2: median(inferMs[1]) };
      rows.push(row);
      console.log(
        `${s.name.padEnd(20)}  ${row.decode.toFixed(2).padStart(9)}  ${row.preprocess.toFixed(2).padStart(13)}  ${row.infer1.toFixed(2).padStart(16)}  ${row.infer2.toFixed(2).padStart(16)}  ${(row.decode + row.preprocess + row.infer1).toFixed(2).padStart(16)}`,
      );
    }
    console.log('\n(medians; decode includes reading the attributes; one image per model run)');
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ model: modelLabel(manifest), images: n, rows }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain('npm run bench:classify', main);
