import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyrouteError } from '../../../src/errors';
import { LOCK_NAME, OWNER_NAME, SpoolLock } from '../../../src/spool/spool-lock';

const neverLost = (err: Error) => {
  throw err;
};

async function refusal(dir: string): Promise<BodyrouteError> {
  try {
    await SpoolLock.acquire(dir, neverLost);
  } catch (err) {
    return err as BodyrouteError;
  }
  throw new Error('the second acquire succeeded');
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('SpoolLock', () => {
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'bodyroute-lock-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('records its holder and refuses a second holder, naming the spool and the pid', async () => {
    const dir = join(tmp, 'spool');
    const lock = await SpoolLock.acquire(dir, neverLost);
    const owner = JSON.parse(readFileSync(join(dir, OWNER_NAME), 'utf8'));
    expect(owner).to.include({ pid: process.pid, host: hostname() });
    const err = await refusal(dir);
    expect(err).to.be.instanceOf(BodyrouteError);
    expect(err.code).to.equal('SPOOL_LOCKED');
    expect(err.message).to.contain(`spool ${dir} is in use by pid ${process.pid}`);
    await lock.release();
    expect(existsSync(join(dir, LOCK_NAME))).to.equal(false);
    expect(existsSync(join(dir, OWNER_NAME))).to.equal(false);
    const again = await SpoolLock.acquire(dir, neverLost);
    await again.release();
  });

  it('takes over a lock whose holder is gone (kill -9) at once', async () => {
    const dir = join(tmp, 'spool');
    mkdirSync(join(dir, LOCK_NAME), { recursive: true });
    const pid = deadPid();
    writeFileSync(join(dir, OWNER_NAME), JSON.stringify({ pid, host: hostname(), processStart: '1', since: '2026-01-01T00:00:00Z' }));
    const lock = await SpoolLock.acquire(dir, neverLost);
    expect(JSON.parse(readFileSync(join(dir, OWNER_NAME), 'utf8')).pid).to.equal(process.pid);
    await lock.release();
  });

  it('does not take a fresh lock over when its holder cannot be named', async () => {
    const dir = join(tmp, 'spool');
    mkdirSync(join(dir, LOCK_NAME), { recursive: true });
    const err = await refusal(dir);
    expect(err.code).to.equal('SPOOL_LOCKED');
    expect(err.message).to.contain('owner unknown');
  });

  it('takes a live pid with another start time for a reused pid, not for the holder', async () => {
    const dir = join(tmp, 'spool');
    mkdirSync(join(dir, LOCK_NAME), { recursive: true });
    writeFileSync(join(dir, OWNER_NAME), JSON.stringify({ pid: process.pid, host: hostname(), processStart: '-1', since: 'x' }));
    const lock = await SpoolLock.acquire(dir, neverLost);
    await lock.release();
  });
});
