import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { ClassifyOutcome, decide } from './classification';
import { initCodecs } from '../dicom/codecs';
import { decodeForClassification, DecodeError, DecodeOptions } from './decode';
import { initReducedJpeg2000 } from '../dicom/jpeg2000-reduced';
import { headerEvidence } from './header-regions';
import { loadManifest, modelLabel } from './manifest';
import { preprocess } from './preprocess';
import { Region } from '../regions/region';

/**
 * A worker thread that decodes, preprocesses and runs the model, so the router's event loop
 * never waits on pixels or inference. Jobs arrive in batches; the images of a batch go
 * through the model in one run (micro-batching).
 */
export interface WorkerInit {
  manifestPath: string;
  device: 'cpu' | 'cuda' | 'auto';
  threads: number;
  /** Fuse the header's words (Body Part Examined, descriptions, protocol) with the image's scores. */
  useHeaders: boolean;
  jpeg2000: Jpeg2000Decoding;
}

/** Where the model runs: onnxruntime's CPU provider, or its CUDA provider. */
export type ExecutionProvider = 'cpu' | 'cuda';

/** How JPEG 2000 frames are decoded for classification: in full, or at the level nearest the model's input. */
export type Jpeg2000Decoding = 'full' | 'reduced';

export type WorkerRequest = { type: 'batch'; jobs: { id: number; path: string }[] };
export type WorkerMessage =
  | { type: 'ready'; provider: ExecutionProvider; fallbackReason?: string }
  | { type: 'failed'; message: string }
  | { type: 'results'; results: { id: number; outcome: ClassifyOutcome; ms: number }[] };

async function createSession(
  modelPath: string,
  init: WorkerInit,
): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider; fallbackReason?: string }> {
  const base: ort.InferenceSession.SessionOptions = { intraOpNumThreads: init.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  if (init.device !== 'cpu') {
    try {
      // onnxruntime prints its own error when the provider library is missing; bodyroute reports it once instead
      return { session: await ort.InferenceSession.create(modelPath, { ...base, logSeverityLevel: 4, executionProviders: ['cuda'] }), provider: 'cuda' };
    } catch (err) {
      if (init.device === 'cuda') throw new Error(`CUDA execution provider unavailable: ${(err as Error).message}`);
      return {
        session: await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] }),
        provider: 'cpu',
        fallbackReason: (err as Error).message.split('\n')[0],
      };
    }
  }
  return { session: await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
}

async function main(): Promise<void> {
  ort.env.logLevel = 'fatal';
  const port = parentPort;
  if (!port) return;
  const init = workerData as WorkerInit;
  const manifest = loadManifest(init.manifestPath);
  await initCodecs();
  if (init.jpeg2000 === 'reduced') await initReducedJpeg2000();
  const { session, provider, fallbackReason } = await createSession(manifest.modelPath, init);
  const size = manifest.preprocessing.size;
  const label = modelLabel(manifest);
  const decodeOptions: DecodeOptions = init.jpeg2000 === 'reduced' ? { reduceJpeg2000To: size } : {};
  port.postMessage({ type: 'ready', provider, fallbackReason } satisfies WorkerMessage);

  port.on('message', (req: WorkerRequest) => {
    void (async () => {
      const results: { id: number; outcome: ClassifyOutcome; ms: number }[] = [];
      const images: {
        id: number;
        tensor: Float32Array;
        started: number;
        sop: string;
        modality: string;
        frameIndex: number;
        numberOfFrames: number;
        headerRegions?: Region[];
      }[] = [];
      for (const job of req.jobs) {
        const started = performance.now();
        try {
          const decoded = decodeForClassification(readInto(job.path), decodeOptions);
          if (decoded.kind === 'skipped') {
            results.push({
              id: job.id,
              outcome: { kind: 'skipped', reason: decoded.reason, sopInstanceUid: decoded.sopInstanceUid, modality: decoded.modality },
              ms: performance.now() - started,
            });
            continue;
          }
          const img = decoded.image;
          const headerRegions = init.useHeaders ? headerEvidence(img.header)?.regions : undefined;
          images.push({
            id: job.id,
            tensor: preprocess(img, manifest.preprocessing),
            started,
            sop: img.sopInstanceUid,
            modality: img.modality,
            frameIndex: img.frameIndex,
            numberOfFrames: img.numberOfFrames,
            headerRegions,
          });
        } catch (err) {
          const message = err instanceof DecodeError ? err.message : `cannot read: ${(err as Error).message}`;
          results.push({ id: job.id, outcome: { kind: 'error', message }, ms: performance.now() - started });
        }
      }
      if (images.length) {
        try {
          const input = new Float32Array(images.length * size * size);
          images.forEach((im, k) => input.set(im.tensor, k * size * size));
          const out = await session.run({ [manifest.input.name]: new ort.Tensor('float32', input, [images.length, 1, size, size]) });
          const logits = out[manifest.output.name].data as Float32Array;
          const n = manifest.classes.length;
          images.forEach((im, k) => {
            const preview = previewOf(im.tensor, size);
            const r = decide(logits.subarray(k * n, (k + 1) * n), manifest.classes, manifest.temperature, manifest.unknownThreshold, im.headerRegions);
            results.push({
              id: im.id,
              outcome: {
                kind: 'classified',
                sopInstanceUid: im.sop,
                modality: im.modality,
                ...r,
                model: label,
                frameIndex: im.frameIndex,
                numberOfFrames: im.numberOfFrames,
                inferenceMs: performance.now() - im.started,
                preview: preview.pixels,
                previewSize: preview.size,
              },
              ms: performance.now() - im.started,
            });
          });
        } catch (err) {
          for (const im of images)
            results.push({ id: im.id, outcome: { kind: 'error', message: `inference failed: ${(err as Error).message}` }, ms: performance.now() - im.started });
        }
      }
      port.postMessage({ type: 'results', results } satisfies WorkerMessage);
    })();
  });
}

/** One read buffer per worker, reused: a fresh 0.5 MB buffer per image keeps the garbage collector busy. */
let readBuffer = Buffer.alloc(0);

const PREVIEW_SIZE = 64;

/** The model's input (values in [0, 1]) shrunk to PREVIEW_SIZE square by averaging, as 8-bit gray. */
function previewOf(tensor: Float32Array, size: number): { pixels: Uint8Array; size: number } {
  const step = Math.max(1, Math.floor(size / PREVIEW_SIZE));
  const out = Math.floor(size / step);
  const pixels = new Uint8Array(out * out);
  for (let y = 0; y < out; y++) {
    for (let x = 0; x < out; x++) {
      let sum = 0;
      for (let dy = 0; dy < step; dy++) for (let dx = 0; dx < step; dx++) sum += tensor[(y * step + dy) * size + x * step + dx];
      pixels[y * out + x] = Math.round(Math.min(1, Math.max(0, sum / (step * step))) * 255);
    }
  }
  return { pixels, size: out };
}

/** The file's bytes, in the reused buffer: valid until the next call (each job is preprocessed before the next is read). */
function readInto(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (readBuffer.length < size) readBuffer = Buffer.allocUnsafe(Math.max(size, 2 * readBuffer.length));
    let got = 0;
    while (got < size) {
      const n = readSync(fd, readBuffer, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return readBuffer.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

main().catch((err) => parentPort?.postMessage({ type: 'failed', message: (err as Error).message } satisfies WorkerMessage));
