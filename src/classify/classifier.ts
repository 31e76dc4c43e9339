import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ClassifyOutcome } from './classification';
import type { ExecutionProvider, Jpeg2000Decoding, WorkerInit, WorkerMessage, WorkerRequest } from './inference-worker';
import { loadManifest, modelLabel, ModelManifest } from './manifest';

/** The model in use ("bodyregion-cnn 2.4.0") and where it runs: what metrics, /readyz and /api/status show. */
export interface ClassifierInfo {
  model: string;
  provider: ExecutionProvider;
}

export function classifierInfo(c: Pick<Classifier, 'manifest' | 'provider'>): ClassifierInfo {
  return { model: modelLabel(c.manifest), provider: c.provider };
}

/** Classifies one stored object; the pipeline's classify stage and the CLI use it. */
export interface Classifier {
  readonly manifest: ModelManifest;
  /** Where the model runs (what classifier.device: auto came to). */
  readonly provider: ExecutionProvider;
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
  /** JPEG 2000 decoded in full (default) or at the resolution level nearest the model's input. */
  jpeg2000?: Jpeg2000Decoding;
  onInfo?: (message: string, fields: Record<string, unknown>) => void;
  /** A worker died (crash, out of memory): it is replaced and its jobs tried again. */
  onWarn?: (message: string, fields: Record<string, unknown>) => void;
  /** The worker script (tests substitute one that crashes on purpose). */
  workerScript?: string;
}

interface Job {
  id: number;
  path: string;
  resolve: (o: ClassifyOutcome) => void;
  /** Workers that died while this job was on them. */
  crashes: number;
}

/** A job on a worker that died twice is given up (as `error`) rather than taking down a third. */
export const MAX_CRASHES_PER_OBJECT = 2;

/**
 * A pool of inference workers fed from one queue: an idle worker takes what has queued up, up
 * to maxBatch. A worker that dies is replaced; only its own jobs are tried again, each alone
 * (one of them may be what killed it), and an object on which workers died twice is classified
 * as `error` so the pipeline moves on.
 */
export class WorkerPoolClassifier implements Classifier {
  private readonly queue: Job[] = [];
  private readonly onWorker = new Map<Worker, Job[]>();
  private readonly idle: Worker[] = [];
  private readonly workers = new Set<Worker>();
  private nextId = 1;
  private closed = false;
  private providerInUse: ExecutionProvider = 'cpu';

  private constructor(
    readonly manifest: ModelManifest,
    private readonly opts: ClassifierOptions,
    private readonly init: WorkerInit,
  ) {}

  get provider(): ExecutionProvider {
    return this.providerInUse;
  }

  static async create(opts: ClassifierOptions): Promise<WorkerPoolClassifier> {
    const manifest = loadManifest(opts.manifestPath);
    const init: WorkerInit = {
      manifestPath: opts.manifestPath,
      device: opts.device,
      threads: opts.threads,
      useHeaders: opts.useHeaders ?? true,
      jpeg2000: opts.jpeg2000 ?? 'full',
    };
    const pool = new WorkerPoolClassifier(manifest, opts, init);
    try {
      for (let i = 0; i < opts.workers; i++) {
        const ready = await pool.startWorker();
        if (i === 0) {
          pool.providerInUse = ready.provider;
          opts.onInfo?.('classifier ready', {
            model: modelLabel(manifest),
            provider: ready.provider,
            workers: opts.workers,
            threads: opts.threads,
            ...(ready.fallbackReason ? { cudaUnavailable: ready.fallbackReason } : {}),
          });
          // measured on an H200 (docs/performance.md, "GPU from the npm registry"): with two or four CUDA workers
          // the pipeline ran at a third to a fifth of one worker's rate while burning CPU; the cause is not
          // established, so the operator is told the setting that was measured to work
          if (ready.provider === 'cuda' && opts.workers > 1)
            opts.onWarn?.('classifier: several workers on CUDA were measured three to five times slower than one; set classifier.workers: 1', {
              workers: opts.workers,
            });
        }
      }
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** Starts one worker and waits for its handshake; it joins the pool when ready. */
  private async startWorker(): Promise<Extract<WorkerMessage, { type: 'ready' }>> {
    const w = new Worker(this.opts.workerScript ?? join(__dirname, 'inference-worker.js'), { workerData: this.init });
    this.workers.add(w);
    // the handshake, or the worker's error or exit while starting; the losing listeners are removed by the abort
    const handshake = new AbortController();
    let ready: WorkerMessage;
    try {
      ready = await Promise.race([
        once(w, 'message', { signal: handshake.signal }).then(([m]) => m as WorkerMessage),
        once(w, 'exit', { signal: handshake.signal }).then(([code]) => {
          throw new Error(`classifier worker exited with code ${String(code)} while starting`);
        }),
      ]);
      if (ready.type !== 'ready') throw new Error(`classifier worker failed to start: ${ready.type === 'failed' ? ready.message : ready.type}`);
    } catch (err) {
      this.workers.delete(w);
      await w.terminate();
      throw err;
    } finally {
      handshake.abort();
    }
    if (this.closed) {
      this.workers.delete(w);
      await w.terminate();
      return ready;
    }
    this.attach(w);
    return ready;
  }

  private attach(w: Worker): void {
    w.on('message', (m: WorkerMessage) => {
      if (m.type !== 'results') return;
      const jobs = new Map((this.onWorker.get(w) ?? []).map((j) => [j.id, j]));
      this.onWorker.delete(w);
      for (const r of m.results) jobs.get(r.id)?.resolve(r.outcome);
      this.idle.push(w);
      this.dispatch();
    });
    let reason = 'exited';
    w.on('error', (err) => (reason = err.message));
    w.on('exit', (code) => this.lost(w, `${reason} (exit code ${code})`));
    this.idle.push(w);
    this.dispatch();
  }

  /** A worker is gone: its jobs go back to the queue (or give up), and a new worker takes its place. */
  private lost(w: Worker, reason: string): void {
    this.workers.delete(w);
    const at = this.idle.indexOf(w);
    if (at >= 0) this.idle.splice(at, 1);
    const jobs = this.onWorker.get(w) ?? [];
    this.onWorker.delete(w);
    if (this.closed) {
      for (const j of jobs) j.resolve({ kind: 'error', message: 'classifier closed' });
      return;
    }
    const retry: Job[] = [];
    for (const j of jobs) {
      j.crashes++;
      if (j.crashes >= MAX_CRASHES_PER_OBJECT) j.resolve({ kind: 'error', message: `classifier worker died ${j.crashes} times on this object: ${reason}` });
      else retry.push(j);
    }
    this.queue.unshift(...retry);
    this.dispatch();
    this.opts.onWarn?.('classifier worker died; starting another', { reason, jobs: jobs.length, retried: retry.length });
    this.startWorker().catch((err: Error) => {
      if (this.closed) return;
      this.opts.onWarn?.('classifier worker could not be replaced', { reason: err.message, workers: this.workers.size });
      if (this.workers.size === 0) for (const j of this.queue.splice(0)) j.resolve({ kind: 'error', message: `no classifier worker: ${err.message}` });
    });
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.shift() as Worker;
      // a job that was on a dying worker goes alone, so that it cannot take others down with it
      const jobs = this.queue[0].crashes > 0 ? this.queue.splice(0, 1) : this.queue.splice(0, this.takeable());
      this.onWorker.set(w, jobs);
      w.postMessage({ type: 'batch', jobs: jobs.map((j) => ({ id: j.id, path: j.path })) } satisfies WorkerRequest);
    }
  }

  /** How many queued jobs, from the front, can share one batch (up to maxBatch, none that crashed before). */
  private takeable(): number {
    let n = 0;
    while (n < this.queue.length && n < this.opts.maxBatch && this.queue[n].crashes === 0) n++;
    return n;
  }

  classify(path: string): Promise<ClassifyOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'error', message: 'classifier is closed' });
    if (this.workers.size === 0) return Promise.resolve({ kind: 'error', message: 'no classifier worker could be started' });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, path, resolve, crashes: 0 });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.resolve({ kind: 'error', message: 'classifier closed' });
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}
