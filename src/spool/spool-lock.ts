import { promises as fsp, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as lockfile from 'proper-lockfile';
import { BodyrouteError, errorMessage } from '../errors';

/**
 * One bodyroute per spool. Two instances on one spool rewrite each other's delivery journals
 * and lose acknowledged objects, so the lock is taken before anything in the spool is read or
 * written, and a second instance leaves without touching it.
 *
 * proper-lockfile does the locking (an atomic mkdir of `<spool>/bodyroute.lock`, kept fresh
 * by touching it). Beside it, `bodyroute.owner.json` names the holder (pid, host, the
 * process's start time), so that a refusal can name the pid and so that a lock left by a
 * `kill -9` is taken over at once when its process is gone, instead of waiting for it to
 * go stale.
 */
export interface SpoolLockOwner {
  pid: number;
  host: string;
  /** Start time of the process (/proc/<pid>/stat field 22), so a reused pid is not taken for the holder. */
  processStart: string | null;
  since: string;
}

/** A lock that nobody refreshed for this long is stale even where its holder cannot be checked (another host). */
const STALE_MS = 30_000;

export const LOCK_NAME = 'bodyroute.lock';
export const OWNER_NAME = 'bodyroute.owner.json';

/** What to do when the lock turns out to be lost while held (e.g. the event loop stalled past STALE_MS). */
export type OnLockLost = (err: Error) => void;

export class SpoolLock {
  private constructor(
    private readonly dir: string,
    private readonly releaseLock: () => Promise<void>,
  ) {}

  /** Takes the spool's lock or throws SPOOL_LOCKED naming the holder; creates only the spool folder itself. */
  static async acquire(dir: string, onLost: OnLockLost, now: () => Date = () => new Date()): Promise<SpoolLock> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const options = { stale: STALE_MS, realpath: false, lockfilePath: join(dir, LOCK_NAME), onCompromised: onLost };
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(dir, options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw spoolIoError(dir, err);
      const owner = readOwner(dir);
      if (!owner || isAlive(owner)) throw lockedError(dir, owner);
      // The holder is gone (kill -9, power cut): nobody else can be writing, take it over.
      await fsp.rmdir(join(dir, LOCK_NAME)).catch(() => undefined);
      try {
        release = await lockfile.lock(dir, options);
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code === 'ELOCKED') throw lockedError(dir, readOwner(dir));
        throw spoolIoError(dir, again);
      }
    }
    const me: SpoolLockOwner = { pid: process.pid, host: hostname(), processStart: processStart(process.pid), since: now().toISOString() };
    await fsp.writeFile(join(dir, OWNER_NAME), `${JSON.stringify(me)}\n`, { mode: 0o600 });
    return new SpoolLock(dir, release);
  }

  /** The holder named in the spool, if any (also for commands that must not run beside it). */
  static owner(dir: string): SpoolLockOwner | undefined {
    return readOwner(dir);
  }

  async release(): Promise<void> {
    await fsp.unlink(join(this.dir, OWNER_NAME)).catch(() => undefined);
    await this.releaseLock().catch(() => undefined);
  }
}

function readOwner(dir: string): SpoolLockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(join(dir, OWNER_NAME), 'utf8')) as Partial<SpoolLockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return undefined;
    return { pid: o.pid, host: o.host, processStart: o.processStart ?? null, since: String(o.since ?? '') };
  } catch {
    return undefined;
  }
}

/** True unless the holder can be shown to be gone: same host, and no process with its pid and start time. */
function isAlive(owner: SpoolLockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = processStart(owner.pid);
  return !(start !== null && owner.processStart !== null && start !== owner.processStart);
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function lockedError(dir: string, owner: SpoolLockOwner | undefined): BodyrouteError {
  const who = owner ? `pid ${owner.pid} on ${owner.host}, since ${owner.since}` : 'another process (owner unknown)';
  return new BodyrouteError('SPOOL_LOCKED', `spool ${dir} is in use by ${who}; one bodyroute per spool`, false);
}

function spoolIoError(dir: string, err: unknown): BodyrouteError {
  return new BodyrouteError('SPOOL_IO', `cannot lock spool ${dir}: ${errorMessage(err)}`, true);
}
