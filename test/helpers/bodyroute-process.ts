import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { waitFor } from './tools';

/** bodyroute run as users run it: the CLI in a child process, configured by a YAML file. */
export interface BodyrouteProcess {
  port: number;
  proc: ChildProcess;
  logs(): string;
  /** Log lines arrive asynchronously: wait until one matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

/** A loopback listener on a free port, a spool in `dir`, one folder destination: the base most tests start from. */
export function folderConfig(dir: string, listen: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE', ...listen },
    spool: { dir: join(dir, 'spool'), minFreeBytes: 0 },
    destinations: [{ name: 'archive', type: 'folder', path: join(dir, 'archive') }],
    routes: [{ to: ['archive'] }],
  };
}

export async function startBodyroute(dir: string, config: Record<string, unknown>, name = 'bodyroute'): Promise<BodyrouteProcess> {
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, stringify(config));
  const proc = spawn(process.execPath, [CLI, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const port = await waitFor(
    'bodyroute to listen',
    () => {
      if (proc.exitCode !== null) throw new Error(`bodyroute exited with ${proc.exitCode}:\n${out}`);
      const m = /listening for DICOM associations.*?"?port"?[=:](\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
    20000,
  );
  return {
    port,
    proc,
    logs: () => out,
    waitForLog: async (pattern: RegExp, timeoutMs = 5000) => {
      await waitFor(`a log line matching ${pattern}`, () => pattern.test(out), timeoutMs, 20);
    },
    kill: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

/** The JSON log lines (logging.format: json) bodyroute has written so far, as data. */
export function jsonLogLines(br: BodyrouteProcess): { level: string; message: string; [field: string]: unknown }[] {
  return br
    .logs()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: string; message: string });
}
