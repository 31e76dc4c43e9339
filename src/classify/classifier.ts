import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClassifyOutcome } from './classification';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './inference-worker';
import { loadManifest, ModelManifest } from './manifest';

/** Classifies one stored object; the pipeline's classify stage and the CLI use it. */
export interface Classifier {
  readonly manifest: ModelManifest;
  classify(path: string): Promise<ClassifyOutcome>;
  close(): Promise<void>;
}

export interface ClassifierOptions {
  manifestPath: string;
  device: 'cpu' | 'cuda' | 'auto';
  /** onnxruntime intra-op threads per worker. */
  threads: number;
  workers: number;
  /** Most images one worker takes from the queue for one model run. */
  maxBatch: number;
  /** Header text as a prior (default true); false classifies on pixels alone. */
  useHeaders?: boolean;
  onInfo?: (message: string, fields: Record<string, unknown>) => void;
}

interface Job {
  id: number;
  path: string;
  resolve: (o: ClassifyOutcome) => void;
}

/** A pool of inference workers fed from one queue: an idle worker takes what has queued up, up to maxBatch. */
export class WorkerPoolClassifier implements Classifier {
  private readonly queue: Job[] = [];
  private readonly inFlight = new Map<number, Job>();
  private readonly idle: Worker[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly workers: Worker[],
    private readonly maxBatch: number,
  ) {}

  static async create(opts: ClassifierOptions): Promise<WorkerPoolClassifier> {
    const manifest = loadManifest(opts.manifestPath);
    const init: WorkerInit = { manifestPath: opts.manifestPath, device: opts.device, threads: opts.threads, useHeaders: opts.useHeaders ?? true };
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < opts.workers; i++) {
        const w = new Worker(join(__dirname, 'inference-worker.js'), { workerData: init });
        workers.push(w);
        const ready = await new Promise<WorkerMessage>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        if (ready.type === 'failed') throw new Error(`classifier worker failed to start: ${ready.message}`);
        if (ready.type === 'ready' && i === 0) {
          opts.onInfo?.('classifier ready', { model: `${manifest.id} ${manifest.version}`, provider: ready.provider, workers: opts.workers, threads: opts.threads, ...(ready.fallbackReason ? { cudaUnavailable: ready.fallbackReason } : {}) });
        }
      }
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    const pool = new WorkerPoolClassifier(manifest, workers, opts.maxBatch);
    for (const w of workers) pool.attach(w);
    return pool;
  }

  private attach(w: Worker): void {
    w.on('message', (m: WorkerMessage) => {
      if (m.type !== 'results') return;
      for (const r of m.results) {
        const job = this.inFlight.get(r.id);
        this.inFlight.delete(r.id);
        job?.resolve(r.outcome);
      }
      this.idle.push(w);
      this.dispatch();
    });
    w.on('error', (err) => {
      // a crashed worker fails its jobs as errors; the pool carries on with the others
      for (const [id, job] of this.inFlight) {
        this.inFlight.delete(id);
        job.resolve({ kind: 'error', message: `classifier worker crashed: ${err.message}` });
      }
    });
    this.idle.push(w);
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.shift() as Worker;
      const jobs = this.queue.splice(0, this.maxBatch);
      for (const j of jobs) this.inFlight.set(j.id, j);
      w.postMessage({ type: 'batch', jobs: jobs.map((j) => ({ id: j.id, path: j.path })) } satisfies WorkerRequest);
    }
  }

  classify(path: string): Promise<ClassifyOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'error', message: 'classifier is closed' });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, path, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.resolve({ kind: 'error', message: 'classifier closed' });
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
