/**
 * npm run bench — the whole pipeline against DCMTK and Orthanc, on this machine, in one run:
 *   (a) storescu → storescp             (b) storescu → Orthanc
 *   (c) storescu → bodyroute (classify + tag, image mode) → storescp, until the last file is on disk
 *   (d) storescu → bodyroute ingest only (acknowledged and spooled)
 *   (e) as (c) in series mode with series.classify: sampled, with the slices classified per series
 * All peers with TCP_NODELAY=1. Prints images/s, MB/s, (c)/(a), (c)/(b), receive→delivered latency
 * percentiles, bodyroute's peak RSS and CPU-seconds per image; --json FILE writes the same.
 * --associations N sends over N associations at once (N storescu, the images split between them).
 * --node-flags=FLAGS starts bodyroute under these node flags instead of src/node-flags.ts' (--node-flags= for none).
 * --slot-files N gives bodyroute spool.slotFiles N (default 0); --dir DIR puts everything (images, peers'
 * storage, spools) under DIR instead of the system's temporary folder, e.g. on another file system.
 * --soak --rate R --seconds S sends continuously at R images/s and reports latency and RSS over time.
 * BENCH_WORKERS (default 1) and BENCH_DEVICE (cpu, cuda or auto; default cpu) set classifier.workers and
 * classifier.device of bodyroute in (c) and (e); the provider that ran is printed and kept in the JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFileMeta } from '../../src/dicom/part10';
import { ScuAssociation } from '../../src/dispatch/scu-association';
import { freePort, PEER_ENV, waitFor } from '../../test/helpers/tools';
import { startOrthanc, startStorescp } from '../../test/helpers/peers';
import { runMain } from './run-main';
import { procStats, startBodyroute } from './bodyroute-process';
import { writeBenchSeries } from './bench-images';
import { SERVE_NODE_FLAGS } from '../../src/node-flags';

/** bodyroute's spool settings besides its folder, in every run (--slot-files N sets spool.slotFiles). */
const spoolSettings = { minFreeBytes: 0, slotFiles: 0 };
/** node's flags for bodyroute: those it is deployed with, unless --node-flags says otherwise ('' for none). */
let nodeFlags: string[] = [...SERVE_NODE_FLAGS];

interface Figures {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  mbPerSecond: number;
}

function figures(images: number, bytes: number, ms: number): Figures {
  return { images, seconds: ms / 1000, imagesPerSecond: images / (ms / 1000), mbPerSecond: bytes / 1e6 / (ms / 1000) };
}

/** Folders sent at once, one storescu (one association) each: --associations N splits the images into N. */
let senderFolders: string[] = [];

/** Sends every image with storescu over `senderFolders.length` associations at once; returns the milliseconds until the last one finished. */
async function storescu(port: number, aet: string, extra: string[] = []): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    senderFolders.map(
      (dir) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn('storescu', ['-aec', aet, '+sd', ...extra, '127.0.0.1', String(port), dir], { env: PEER_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          p.stderr?.on('data', (d: Buffer) => (err += d.toString('latin1')));
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storescu failed: ${err}`))));
        }),
    ),
  );
  return performance.now() - t0;
}

function countFiles(dir: string): number {
  try {
    return readdirSync(dir).length;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((q / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      images: { type: 'string' },
      json: { type: 'string' },
      soak: { type: 'boolean' },
      rate: { type: 'string' },
      seconds: { type: 'string' },
      keep: { type: 'boolean' },
      associations: { type: 'string' },
      'slot-files': { type: 'string' },
      dir: { type: 'string' },
      'node-flags': { type: 'string' },
    },
  });
  const n = Number(values.images ?? 1000);
  const tmp = mkdtempSync(join(values.dir ?? tmpdir(), 'bodyroute-bench-'));
  spoolSettings.slotFiles = Number(values['slot-files'] ?? 0);
  if (values['node-flags'] !== undefined) nodeFlags = values['node-flags'].split(/\s+/).filter(Boolean);
  const model = join(__dirname, '..', '..', '..', 'models', 'bodyregion-cnn.json');
  try {
    const src = join(tmp, 'ct');
    writeBenchSeries(src, n);
    const bytes = readdirSync(src).reduce((a, f) => a + statSync(join(src, f)).size, 0);
    // --associations N: the same images in N folders (hard links), sent by N storescu at once
    const associations = Math.max(1, Number(values.associations ?? 1));
    senderFolders = associations === 1 ? [src] : Array.from({ length: associations }, (_, k) => join(tmp, `send${k}`));
    if (associations > 1) {
      for (const d of senderFolders) mkdirSync(d);
      readdirSync(src).forEach((f, i) => linkSync(join(src, f), join(senderFolders[i % associations], f)));
    }
    const jls = join(tmp, 'ct-jpeg-lossless');
    mkdirSync(jls);
    for (const f of readdirSync(src).slice(0, Math.min(n, 200))) spawnSync('dcmcjpeg', ['+e1', join(src, f), join(jls, f)]);
    console.log(
      `${n} synthetic 512x512 CT images (${(bytes / n / 1024).toFixed(0)} KiB each) over ${senderFolders.length} association(s) at once; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    );
    if (values.soak) return await soak(tmp, src, model, Number(values.rate ?? 100), Number(values.seconds ?? 600), values.json);

    // (a) storescu → storescp
    const scpA = await startStorescp(join(tmp, 'a'));
    const a = figures(n, bytes, await storescu(scpA.port, scpA.aeTitle));
    await scpA.stop();
    // (b) storescu → Orthanc
    const orthanc = await startOrthanc(join(tmp, 'b'));
    const b = figures(n, bytes, await storescu(orthanc.port, orthanc.aeTitle));
    await orthanc.stop();
    // (c) the whole pipeline
    const scpC = await startStorescp(join(tmp, 'c'));
    /** bodyroute classifying and forwarding to `scp`, with its spool in `spool`. */
    const classifierWorkers = Number(process.env.BENCH_WORKERS ?? 1);
    const classifierDevice = process.env.BENCH_DEVICE ?? 'cpu';
    const pipelineConfig = (spool: string, scp: { port: number; aeTitle: string }, extra: Record<string, unknown>) => ({
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(tmp, spool), ...spoolSettings },
      classifier: {
        enabled: true,
        model,
        threads: 1,
        workers: classifierWorkers,
        device: classifierDevice,
        maxBatch: 16,
      },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: scp.port, aeTitle: scp.aeTitle }],
      routes: [{ to: ['pacs'] }],
      ...extra,
    });
    const c = await startBodyroute(
      tmp,
      nodeFlags,
      pipelineConfig('spool-c', scpC, { tagging: { mode: 'image' }, logging: { level: 'debug', format: 'json' } }),
    );
    const before = procStats(c.proc.pid as number);
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStats(c.proc.pid as number).rssMb)), 100);
    const t0 = performance.now();
    const ackMs = await storescu(c.port, 'BODYROUTE');
    await waitFor('every image at the destination', () => countFiles(scpC.dir) >= n && c.latencies.length >= n, 600000, 20);
    const cMs = performance.now() - t0;
    clearInterval(sampler);
    const after = procStats(c.proc.pid as number);
    const lat = [...c.latencies].sort((x, y) => x - y);
    await c.stop();
    await scpC.stop();
    const cf = figures(n, bytes, cMs);
    // (e) series mode, series.classify: sampled (the default there): one series of n slices
    const scpE = await startStorescp(join(tmp, 'e'));
    const e = await startBodyroute(
      tmp,
      nodeFlags,
      pipelineConfig('spool-e', scpE, {
        tagging: { mode: 'series' },
        series: { stableSeconds: 1, classify: 'sampled' },
        logging: { level: 'info', format: 'json' },
      }),
    );
    const eBefore = procStats(e.proc.pid as number);
    const te = performance.now();
    await storescu(e.port, 'BODYROUTE');
    await waitFor('every image at the destination (series mode)', () => countFiles(scpE.dir) >= n, 600000, 20);
    // the series waits series.stableSeconds before it is classified: that second is not work
    const eMs = performance.now() - te - 1000;
    const eAfter = procStats(e.proc.pid as number);
    const seriesSeen = [...e.series];
    await e.stop();
    await scpE.stop();
    const ef = figures(n, bytes, eMs);
    // (d) ingest alone: the destination is down, objects stay spooled
    const d = await startBodyroute(tmp, nodeFlags, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(tmp, 'spool-d'), ...spoolSettings },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: await freePort(), aeTitle: 'NOBODY' }],
      routes: [{ to: ['pacs'] }],
      logging: { level: 'info', format: 'json' },
    });
    const df = figures(n, bytes, await storescu(d.port, 'BODYROUTE'));
    await d.stop();

    const row = (name: string, f: Figures) =>
      console.log(`${name.padEnd(52)} ${f.imagesPerSecond.toFixed(0).padStart(8)} ${f.mbPerSecond.toFixed(1).padStart(8)}`);
    console.log('');
    console.log(`${'path'.padEnd(52)} ${'img/s'.padStart(8)} ${'MB/s'.padStart(8)}`);
    row('(a) storescu → storescp', a);
    row('(b) storescu → Orthanc', b);
    row('(c) storescu → bodyroute (classify+tag) → storescp', cf);
    row('(d) storescu → bodyroute ingest only', df);
    row('(e) the same in series mode, slices sampled', ef);
    console.log('');
    console.log(`(c)/(a) = ${(cf.imagesPerSecond / a.imagesPerSecond).toFixed(2)}   (c)/(b) = ${(cf.imagesPerSecond / b.imagesPerSecond).toFixed(2)}`);
    console.log(`(c) acknowledged by bodyroute after ${(ackMs / 1000).toFixed(2)} s, all delivered after ${(cMs / 1000).toFixed(2)} s`);
    console.log(
      `(c) receive→delivered latency ms: p50 ${percentile(lat, 50)}  p95 ${percentile(lat, 95)}  p99 ${percentile(lat, 99)}  (burst of ${n}, so it includes queueing)`,
    );
    console.log(
      `(c) bodyroute peak RSS ${Math.max(peakRss, after.hwmMb).toFixed(0)} MB, CPU ${(((after.cpuSeconds - before.cpuSeconds) / n) * 1000).toFixed(2)} ms per image; classifier on ${c.provider ?? '?'} (${classifierWorkers} worker(s))`,
    );
    const classifiedSlices = seriesSeen.reduce((a2, x) => a2 + x.classified, 0);
    console.log(
      `(e) series mode: ${seriesSeen.length} series, ${classifiedSlices} of ${seriesSeen.reduce((a2, x) => a2 + x.images, 0)} slices classified; CPU ${(((eAfter.cpuSeconds - eBefore.cpuSeconds) / n) * 1000).toFixed(2)} ms per image`,
    );
    const result = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: totalmem() / 2 ** 30 },
      images: n,
      bytesPerImage: bytes / n,
      a,
      b,
      c: { ...cf, classifier: { device: classifierDevice, provider: c.provider, workers: classifierWorkers } },
      d: df,
      e: { ...ef, series: seriesSeen, cpuMsPerImage: ((eAfter.cpuSeconds - eBefore.cpuSeconds) / n) * 1000 },
      ratios: { cOverA: cf.imagesPerSecond / a.imagesPerSecond, cOverB: cf.imagesPerSecond / b.imagesPerSecond },
      latencyMs: { p50: percentile(lat, 50), p95: percentile(lat, 95), p99: percentile(lat, 99) },
      peakRssMb: Math.max(peakRss, after.hwmMb),
      cpuMsPerImage: ((after.cpuSeconds - before.cpuSeconds) / n) * 1000,
    };
    if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2) + '\n');
  } finally {
    if (!values.keep) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Sends at a steady rate over one association for `seconds`, reporting latency and RSS every 30 s. */
async function soak(tmp: string, src: string, model: string, rate: number, seconds: number, json?: string): Promise<void> {
  const scp = await startStorescp(join(tmp, 'soak'));
  const br = await startBodyroute(tmp, nodeFlags, {
    listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
    spool: { dir: join(tmp, 'spool-soak'), ...spoolSettings },
    classifier: { enabled: true, model },
    destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: scp.port, aeTitle: scp.aeTitle }],
    routes: [{ to: ['pacs'] }],
    logging: { level: 'debug', format: 'json', statsIntervalSeconds: 30 },
  });
  const files = readdirSync(src).map((f) => join(src, f));
  const assoc = await ScuAssociation.open(
    {
      host: '127.0.0.1',
      port: br.port,
      callingAeTitle: 'SOAK',
      calledAeTitle: 'BODYROUTE',
      maxPduLength: 262144,
      connectTimeoutMs: 5000,
      responseTimeoutMs: 30000,
    },
    [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxUid: '1.2.840.10008.1.2.1' }],
  );
  const ctx = assoc.contextFor('1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1') as number;
  const start = performance.now();
  const samples: { t: number; rssMb: number; p50: number; p99: number; sent: number }[] = [];
  let sent = 0;
  let seen = 0;
  let nextReport = 30000;
  while (performance.now() - start < seconds * 1000) {
    const due = start + (sent * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const f = files[sent % files.length];
    const bytes = readFileSync(f);
    const meta = readFileMeta(bytes);
    // a new SOP Instance UID each time would need re-encoding; the same instances repeat, which the destination overwrites
    await assoc.store(
      {
        path: f,
        datasetOffset: meta.datasetOffset,
        sizeBytes: bytes.length,
        sopClassUid: meta.sopClassUid,
        sopInstanceUid: meta.sopInstanceUid,
        transferSyntaxUid: meta.transferSyntaxUid,
      },
      ctx,
    );
    sent++;
    if (performance.now() - start >= nextReport) {
      const lat = br.latencies.slice(seen).sort((x, y) => x - y);
      seen += lat.length;
      const heap = br.stats[br.stats.length - 1];
      const s = {
        t: Math.round((performance.now() - start) / 1000),
        rssMb: procStats(br.proc.pid as number).rssMb,
        heapUsedMb: heap?.heapUsedMb,
        externalMb: heap?.externalMb,
        p50: percentile(lat, 50),
        p99: percentile(lat, 99),
        sent,
      };
      samples.push(s);
      console.log(
        `t=${s.t}s sent=${s.sent} rss=${s.rssMb.toFixed(0)}MB heapUsed=${s.heapUsedMb ?? '?'}MB external=${s.externalMb ?? '?'}MB latency p50=${s.p50}ms p99=${s.p99}ms`,
      );
      nextReport += 30000;
    }
  }
  await assoc.release();
  await br.stop();
  await scp.stop();
  if (json) writeFileSync(json, JSON.stringify({ rate, seconds, samples }, null, 2) + '\n');
}

runMain('npm run bench', main);
