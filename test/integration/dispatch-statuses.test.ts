import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute } from '../helpers/bodyroute-process';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

describe('dispatch: destination statuses, retries and dead letters', function () {
  this.timeout(60000);
  const fx = suiteFixture('status', 'storescu');
  let br: BodyrouteProcess;
  let dest: ScriptedScp;
  const fatalUid = `${newUid()}.1`;
  const alwaysBusyUid = `${newUid()}.2`;
  const busyTwiceUid = `${newUid()}.3`;
  const okUids: string[] = [];
  let destinationFixed = false;
  const idOf = (uid: string) => {
    const dead = join(fx.tmp, 'spool', 'dead', 'pacs');
    for (const f of readdirSync(dead)) {
      if (f.endsWith('.json') && (JSON.parse(readFileSync(join(dead, f), 'utf8')) as { sopInstanceUid: string }).sopInstanceUid === uid) return f.slice(0, -5);
    }
    return undefined;
  };

  before(async function () {
    dest = await startScriptedScp((uid, attempt) => {
      if (destinationFixed) return 0x0000;
      if (uid === fatalUid) return 0xa900; // dataset does not match SOP class: never retry
      if (uid === alwaysBusyUid) return 0xa700; // out of resources, every time
      if (uid === busyTwiceUid && attempt <= 2) return 0xa702;
      return 0x0000;
    });
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 400 },
      destinations: [{ name: 'pacs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'PACS' }],
      routes: [{ to: ['pacs'] }],
    });
    const files: string[] = [];
    const series = newUid();
    const add = (uid: string, i: number) => {
      const f = join(fx.tmp, `o${i}.dcm`);
      writeSyntheticImage(f, { rows: 32, columns: 32, seriesUid: series, sopInstanceUid: uid, instanceNumber: i });
      files.push(f);
    };
    add(fatalUid, 0);
    add(alwaysBusyUid, 1);
    add(busyTwiceUid, 2);
    for (let i = 3; i < 13; i++) {
      const uid = newUid();
      okUids.push(uid);
      add(uid, i);
    }
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    await waitFor('every object settled', () => dest.stored.length === 11 && idOf(fatalUid) && idOf(alwaysBusyUid), 30000);
  });

  it('delivers the objects queued behind a failing one without waiting for it', () => {
    // the first ok object is sent right after the two failures, before any retry of them
    const order = [...dest.calls.keys()];
    expect(order.indexOf(okUids[0])).to.equal(3);
    for (const u of okUids) expect(dest.stored).to.include(u);
  });

  it('retries a retryable status and delivers once the destination accepts', () => {
    expect(dest.calls.get(busyTwiceUid)).to.equal(3);
    expect(dest.stored).to.include(busyTwiceUid);
  });

  it('dead-letters a non-retryable status at once, with the status and reason on disk and in the log', async () => {
    expect(dest.calls.get(fatalUid)).to.equal(1);
    const id = idOf(fatalUid) as string;
    const record = JSON.parse(readFileSync(join(fx.tmp, 'spool', 'dead', 'pacs', `${id}.json`), 'utf8'));
    expect(record).to.include({ destination: 'pacs', code: 'DEST_STATUS_FATAL', status: '0xA900', attempts: 1 });
    expect(existsSync(join(fx.tmp, 'spool', 'dead', 'pacs', `${id}.dcm`))).to.equal(true);
    await br.waitForEntry({
      message: 'object dead-lettered',
      destination: 'pacs',
      id,
      sopInstanceUid: fatalUid,
      attempts: 1,
      code: 'DEST_STATUS_FATAL',
      status: '0xA900',
    });
  });

  it('dead-letters a retryable status after retry.maxAttempts', async () => {
    expect(dest.calls.get(alwaysBusyUid)).to.equal(3);
    await br.waitForEntry({ message: 'delivery failed; will retry', destination: 'pacs', attempt: 1, status: '0xA700' });
    const record = JSON.parse(readFileSync(join(fx.tmp, 'spool', 'dead', 'pacs', `${idOf(alwaysBusyUid)}.json`), 'utf8'));
    expect(record).to.include({ code: 'DEST_STATUS_RETRYABLE', status: '0xA700', attempts: 3 });
  });

  it('bodyroute requeue sends the dead letters again once the destination takes them', async () => {
    destinationFixed = true;
    const r = spawnSync(process.execPath, [CLI, 'requeue', '--all', '--config', join(fx.tmp, 'bodyroute.yaml')], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/2 object\(s\) requeued/);
    await waitFor('both dead letters delivered', () => dest.stored.includes(fatalUid) && dest.stored.includes(alwaysBusyUid), 15000);
    expect(readdirSync(join(fx.tmp, 'spool', 'dead', 'pacs'))).to.deep.equal([]);
    await br.waitForEntry({ message: 'dead letter requeued', destination: 'pacs' });
    const again = spawnSync(process.execPath, [CLI, 'requeue', 'no-such-id', '--config', join(fx.tmp, 'bodyroute.yaml')], { encoding: 'utf8' });
    expect(again.status).to.equal(1);
  });

  it('removes delivered objects from the store', async () => {
    await waitFor('an empty store', () => readdirSync(join(fx.tmp, 'spool', 'store')).length === 0, 5000);
  });
});
