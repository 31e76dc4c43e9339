/**
 * npm run bench:threads — where bodyroute's CPU per image goes, thread by thread, once it is warm.
 * Starts `bodyroute serve` as a row of `npm run bench` configures it (--mode image: (c), classify + tag
 * into storescp; series: (e), series.classify sampled; ingest: (d), the destination down), sends --warmup
 * images first (JIT, caches, heap sizes), then --images synthetic 512×512 CT --repeat times with storescu,
 * waits until each is delivered (ingest: acknowledged), and prints images/s and the CPU per image of the
 * whole process and of each thread (utime + stime from /proc/<pid>/task/*, with its kernel part), and the
 * full mark-compacts of all its V8 heaps in that window when --node-flags includes --trace-gc.
 * node's threads are listed in the order they start: main, V8's four helper threads, libuv's four file
 * system threads (almost only kernel time), then the inference workers.
 * Options: --mode image|series|ingest (image), --images N (400), --repeat R (1), --warmup W (150),
 * --workers N (classifier.workers, 1), --node-flags=FLAGS (default: src/node-flags.ts'; --node-flags= for none).
 */
import { spawn } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVE_NODE_FLAGS } from '../../src/node-flags';
import { startStorescp } from '../../test/helpers/peers';
import { freePort, PEER_ENV, waitFor } from '../../test/helpers/tools';
import { startBodyroute } from './bodyroute-process';
import { runMain } from './run-main';
import { writeBenchSeries } from './bench-images';

type Mode = 'image' | 'series' | 'ingest';

/** CPU time (utime, stime) in clock ticks of each thread of `pid`, by thread id. */
function threadTicks(pid: number): Map<number, { user: number; system: number }> {
  const ticks = new Map<number, { user: number; system: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks.set(Number(tid), { user: Number(f[11]), system: Number(f[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ticks;
}

function sendAll(port: number, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('storescu', ['-aec', 'BODYROUTE', '+sd', '127.0.0.1', String(port), dir], { env: PEER_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString('latin1')));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`storescu failed: ${err}`))));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'image' },
      images: { type: 'string', default: '400' },
      repeat: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '150' },
      workers: { type: 'string', default: '1' },
      'node-flags': { type: 'string' },
    },
  });
  const mode = values.mode as Mode;
  if (!['image', 'series', 'ingest'].includes(mode))
    throw Object.assign(new Error(`--mode ${mode}: image, series or ingest`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  const [n, repeat, warmup, workers] = [values.images, values.repeat, values.warmup, values.workers].map(Number);
  const nodeFlags = values['node-flags'] === undefined ? [...SERVE_NODE_FLAGS] : values['node-flags'].split(/\s+/).filter(Boolean);
  const tmp = mkdtempSync(join(tmpdir(), 'bodyroute-threads-'));
  try {
    const src = join(tmp, 'ct');
    const warm = join(tmp, 'warm');
    writeBenchSeries(src, n);
    mkdirSync(warm);
    // the warm-up sends the first images again, so they are warm-up of the same series
    readdirSync(src)
      .slice(0, warmup)
      .forEach((f) => linkSync(join(src, f), join(warm, f)));
    const scp = await startStorescp(join(tmp, 'dest'));
    const br = await startBodyroute(tmp, nodeFlags, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(tmp, 'spool'), minFreeBytes: 0 },
      classifier: {
        enabled: mode !== 'ingest',
        model: join(__dirname, '..', '..', '..', 'models', 'bodyregion-cnn.json'),
        threads: 1,
        workers,
        device: 'cpu',
        maxBatch: 16,
      },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: mode === 'ingest' ? await freePort() : scp.port, aeTitle: scp.aeTitle }],
      routes: [{ to: ['pacs'] }],
      tagging: { mode: mode === 'series' ? 'series' : 'image' },
      ...(mode === 'series' ? { series: { stableSeconds: 1, classify: 'sampled' } } : {}),
      // one "delivered" line per object, counted to know when all are there
      logging: { level: 'debug', format: 'json' },
    });
    const pid = br.proc.pid as number;
    try {
      const delivered = (count: number) =>
        mode === 'ingest' ? Promise.resolve() : waitFor(`${count} delivered`, () => br.latencies.length >= count, 600000, 20);
      await sendAll(br.port, warm);
      await delivered(warmup);
      await new Promise((r) => setTimeout(r, mode === 'series' ? 2500 : 1000));
      const before = threadTicks(pid);
      const compactsBefore = br.markCompacts;
      const t0 = performance.now();
      for (let r = 0; r < repeat; r++) await sendAll(br.port, src);
      await delivered(warmup + n * repeat);
      // series mode: the last series waits series.stableSeconds before it is classified, which is not work
      const seconds = (performance.now() - t0) / 1000 - (mode === 'series' ? 1 : 0);
      const after = threadTicks(pid);
      const images = n * repeat;
      const ms = (ticks: number) => ((ticks * 10) / images).toFixed(2); // 100 ticks a second
      let user = 0;
      let system = 0;
      const rows: string[] = [];
      for (const [tid, t] of [...after].sort((a, b) => a[0] - b[0])) {
        const b = before.get(tid) ?? { user: 0, system: 0 };
        const [u, s] = [t.user - b.user, t.system - b.system];
        user += u;
        system += s;
        if (u + s > 0) rows.push(`  ${(tid === pid ? 'main' : `+${tid - pid}`).padEnd(6)} ${ms(u + s).padStart(7)} ms  (kernel ${ms(s)})`);
      }
      console.log(`${images} images (${mode} mode, ${workers} worker(s), node ${nodeFlags.join(' ') || 'without flags'}) after ${warmup} to warm up`);
      console.log(`${(images / seconds).toFixed(0)} images/s; CPU per image ${ms(user + system)} ms (kernel ${ms(system)}); thread by thread:`);
      for (const r of rows) console.log(r);
      if (nodeFlags.includes('--trace-gc')) console.log(`full mark-compacts (all V8 heaps): ${br.markCompacts - compactsBefore}`);
    } finally {
      await br.stop();
      await scp.stop();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

runMain('npm run bench:threads', main);
