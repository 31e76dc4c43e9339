import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SERVE_NODE_FLAGS } from '../../src/node-flags';
import { waitFor } from './tools';
import { stopAfterSuite } from './suite-fixture';

/** bodyroute run as users run it: the CLI in a child process, configured by a YAML file. */
export interface BodyrouteProcess {
  port: number;
  /** The operator HTTP server's port, once it logged it. */
  readonly httpPort: number | undefined;
  proc: ChildProcess;
  /** Everything it wrote (JSON log lines unless the test's config asks for text). */
  logs(): string;
  /** The log entries so far, as data. */
  entries(): LogEntry[];
  /** Log entries arrive asynchronously: wait until one matches; returns it. */
  waitForEntry(match: EntryMatch, timeoutMs?: number): Promise<LogEntry>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface LogEntry {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** Fields an entry must have: a value to equal, or a pattern its text must match. */
export type EntryMatch = Record<string, string | number | boolean | RegExp>;

export function entryMatches(e: LogEntry, match: EntryMatch): boolean {
  return Object.entries(match).every(([k, want]) => (want instanceof RegExp ? e[k] !== undefined && want.test(String(e[k])) : e[k] === want));
}

function parseEntries(out: string): LogEntry[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogEntry);
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

/**
 * A loopback listener and one DIMSE destination, `pacs`: a storescp (AE STORESCP) on `scpPort` that may not be
 * up yet, with fast retries — the base of the crash, shutdown and recovery tests. `extra` replaces top-level keys.
 */
export function storescpConfig(dir: string, scpPort: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
    spool: { dir: join(dir, 'spool'), minFreeBytes: 0 },
    retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: scpPort, aeTitle: 'STORESCP', connectTimeoutMs: 1000 }],
    routes: [{ to: ['pacs'] }],
    ...extra,
  };
}

/** Starts `bodyroute serve` on the config; it logs JSON (read as data by the tests) unless the config says otherwise. */
/**
 * Starts `bodyroute serve` on `config` (logging as JSON) and resolves once it listens for DICOM,
 * or with `until: 'http'` as soon as its operator HTTP server listens (before recovery, so a test
 * can watch /readyz; `port` is then 0).
 */
export async function startBodyroute(
  dir: string,
  config: Record<string, unknown>,
  name = 'bodyroute',
  until: 'dicom' | 'http' = 'dicom',
): Promise<BodyrouteProcess> {
  const configPath = join(dir, `${name}.yaml`);
  writeFileSync(configPath, stringify({ ...config, logging: { format: 'json', ...(config.logging as Record<string, unknown> | undefined) } }));
  const proc = spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI, 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const port = await waitFor(
    'bodyroute to listen',
    () => {
      if (proc.exitCode !== null) throw new Error(`bodyroute exited with ${proc.exitCode}:\n${out}`);
      if (until === 'http') return /operator HTTP server listening/.test(out) ? -1 : undefined;
      const m = /listening for DICOM associations.*?"?port"?[=:](\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
    20000,
  );
  stopAfterSuite(() => killProcess(proc, 'SIGKILL'));
  return {
    port: Math.max(0, port),
    get httpPort() {
      const m = /operator HTTP server listening.*?"?port"?[=:](\d+)/.exec(out) ?? /"port":(\d+)[^\n]*operator HTTP server listening/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
    proc,
    logs: () => out,
    entries: () => parseEntries(out),
    waitForEntry: (match: EntryMatch, timeoutMs = 5000) =>
      waitFor(
        `a log entry with ${JSON.stringify(match, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`,
        () => parseEntries(out).find((e) => entryMatches(e, match)),
        timeoutMs,
        20,
      ),
    kill: (signal: NodeJS.Signals = 'SIGTERM') => killProcess(proc, signal),
  };
}

function killProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill(signal);
  });
}

/** The JSON log lines bodyroute has written so far, as data. */
export function jsonLogLines(br: BodyrouteProcess): LogEntry[] {
  return br.entries();
}
