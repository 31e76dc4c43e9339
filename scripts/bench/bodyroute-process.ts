import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from '../../test/helpers/tools';

/** bodyroute as the benches run it: the CLI in a child process, read from its JSON log as it comes. */
const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

/** Resident memory and CPU time of a process, from /proc. */
export function procStats(pid: number): { rssMb: number; hwmMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100 };
}

export interface RunningBodyroute {
  proc: ChildProcess;
  port: number;
  /** receive→delivered latency of each delivered object so far, in delivery order */
  latencies: number[];
  /** bodyroute's own "stats" lines (logging.statsIntervalSeconds) */
  stats: { rssMb: number; heapUsedMb: number; externalMb: number }[];
  /** series mode: images and classified images of each series labelled */
  series: { images: number; classified: number }[];
  /** the execution provider the classifier runs on ("classifier ready"), once it said so */
  provider?: string;
  /** full mark-compacts of all its V8 heaps so far, when node runs with --trace-gc (it prints them on stdout) */
  readonly markCompacts: number;
  stop: () => Promise<void>;
}

/** Starts `bodyroute serve` under node's `nodeFlags` on `config` (written into `dir`) and resolves once it listens. */
export async function startBodyroute(dir: string, nodeFlags: readonly string[], config: Record<string, unknown>): Promise<RunningBodyroute> {
  writeFileSync(join(dir, 'bench.yaml'), stringify(config));
  const proc = spawn(process.execPath, [...nodeFlags, CLI, 'serve', '--config', join(dir, 'bench.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let markCompacts = 0;
  let gcPartial = '';
  proc.stdout?.on('data', (d: Buffer) => {
    const lines = (gcPartial + d.toString()).split('\n');
    gcPartial = lines.pop() ?? '';
    markCompacts += lines.filter((l) => l.includes(': Mark-Compact ')).length;
  });
  // the log is read line by line as it comes: keeping and re-parsing it all would slow this process (the
  // soak's sender) more and more as the run goes on
  let head = '';
  let partial = '';
  const latencies: number[] = [];
  const stats: RunningBodyroute['stats'] = [];
  const series: RunningBodyroute['series'] = [];
  let provider: string | undefined;
  proc.stderr?.on('data', (d: Buffer) => {
    const text = partial + d.toString();
    if (head.length < 65536) head += d.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (l.includes('"message":"delivered"')) latencies.push((JSON.parse(l) as { latencyMs: number }).latencyMs);
      else if (l.includes('"message":"stats"')) stats.push(JSON.parse(l) as RunningBodyroute['stats'][number]);
      else if (l.includes('"message":"series labelled"')) series.push(JSON.parse(l) as RunningBodyroute['series'][number]);
      else if (l.includes('"message":"classifier ready"')) provider = (JSON.parse(l) as { provider: string }).provider;
    }
  });
  const port = await waitFor(
    'bodyroute',
    () => {
      if (proc.exitCode !== null) throw new Error(`bodyroute exited: ${head}`);
      return Number(/"port":(\d+)/.exec(head)?.[1] ?? 0) || undefined;
    },
    30000,
  ).catch((err: Error) => {
    proc.kill();
    throw new Error(`${err.message}\n${head}`);
  });
  return {
    proc,
    port,
    latencies,
    stats,
    series,
    get provider() {
      return provider;
    },
    get markCompacts() {
      return markCompacts;
    },
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
