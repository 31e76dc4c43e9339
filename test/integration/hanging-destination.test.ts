import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodyrouteProcess, startBodyroute, entryMatches } from '../helpers/bodyroute-process';
import { ScriptedScp, startScriptedScp } from '../helpers/scripted-scp';
import { newUid, writeSyntheticImage } from '../helpers/synthetic-dicom';
import { dicomFilesUnder, run, waitFor } from '../helpers/tools';
import { suiteFixture } from '../helpers/suite-fixture';

describe('a destination that accepts an object and then hangs', function () {
  this.timeout(60000);
  const fx = suiteFixture('hang', 'storescu');
  let br: BodyrouteProcess;
  let dest: ScriptedScp;
  const hangUid = `${newUid()}.7`;

  before(async function () {
    dest = await startScriptedScp((uid) => (uid === hangUid ? null : 0));
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 300 },
      destinations: [
        { name: 'hangs', type: 'dimse', host: '127.0.0.1', port: dest.port, aeTitle: 'HANGS', responseTimeoutMs: 1000 },
        { name: 'archive', type: 'folder', path: join(fx.tmp, 'archive') },
      ],
      routes: [{ to: ['hangs', 'archive'] }],
    });
  });

  it('times the object out, retries it, dead-letters it, and neither the objects behind it nor the other destination wait', async () => {
    const series = newUid();
    const files = [hangUid, newUid(), newUid(), newUid()].map((uid, i) => {
      const f = join(fx.tmp, `h${i}.dcm`);
      writeSyntheticImage(f, { rows: 32, columns: 32, seriesUid: series, sopInstanceUid: uid, instanceNumber: i + 1 });
      return f;
    });
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    // the folder destination is not held up by the hanging one
    await waitFor('all four in the archive', () => dicomFilesUnder(join(fx.tmp, 'archive')) === 4, 5000);
    await waitFor('the three others delivered to the hanging destination', () => dest.stored.length === 3, 15000);
    await br.waitForEntry({ message: 'delivery failed; will retry', destination: 'hangs', attempt: 1, code: 'DEST_TIMEOUT' }, 10000);
    await br.waitForEntry({ message: 'object dead-lettered', destination: 'hangs', attempts: 2, code: 'DEST_TIMEOUT' }, 15000);
    const dead = readdirSync(join(fx.tmp, 'spool', 'dead', 'hangs')).filter((f) => f.endsWith('.json'));
    expect(dead).to.have.length(1);
    expect(JSON.parse(readFileSync(join(fx.tmp, 'spool', 'dead', 'hangs', dead[0]), 'utf8'))).to.include({ sopInstanceUid: hangUid, code: 'DEST_TIMEOUT' });
  });
});

describe('destinations that refuse associations, or answer slowly', function () {
  this.timeout(60000);
  const fx = suiteFixture('refuse', 'storescu');
  let br: BodyrouteProcess;
  let refusing: ScriptedScp;
  let slow: ScriptedScp;
  let refuse = true;

  before(async function () {
    refusing = await startScriptedScp(() => 0, { rejectAssociations: () => refuse });
    slow = await startScriptedScp(() => 0, { delayMs: 400 });
    br = await startBodyroute(fx.tmp, {
      listen: { host: '127.0.0.1', port: 0, aeTitle: 'BODYROUTE' },
      spool: { dir: join(fx.tmp, 'spool'), minFreeBytes: 0 },
      retry: { maxAttempts: 2, initialDelayMs: 100, maxDelayMs: 500 },
      destinations: [
        { name: 'refusing', type: 'dimse', host: '127.0.0.1', port: refusing.port, aeTitle: 'REFUSES' },
        { name: 'slow', type: 'dimse', host: '127.0.0.1', port: slow.port, aeTitle: 'SLOW' },
        { name: 'archive', type: 'folder', path: join(fx.tmp, 'archive') },
      ],
      routes: [{ to: ['refusing', 'slow', 'archive'] }],
    });
  });

  it('keeps objects queued (no dead letters) while a destination rejects associations, and delivers once it accepts; a slow one holds up nobody', async () => {
    const series = newUid();
    const files = Array.from({ length: 6 }, (_, i) => {
      const f = join(fx.tmp, `r${i}.dcm`);
      writeSyntheticImage(f, { rows: 32, columns: 32, seriesUid: series, instanceNumber: i + 1 });
      return f;
    });
    run('storescu', ['-aec', 'BODYROUTE', '127.0.0.1', String(br.port), ...files]);
    await waitFor('six in the archive', () => dicomFilesUnder(join(fx.tmp, 'archive')) === 6, 2000);
    expect(slow.stored.length, 'the slow destination is still working').to.be.below(6);
    await br.waitForEntry({ message: 'destination unavailable; objects stay queued', destination: 'refusing', code: 'DEST_REJECTED_ASSOCIATION' });
    await new Promise((r) => setTimeout(r, 1500)); // several rounds past maxAttempts
    expect(br.entries().filter((e) => entryMatches(e, { message: 'object dead-lettered', destination: 'refusing' }))).to.deep.equal([]);
    refuse = false;
    await waitFor('delivered to the destination that accepts again', () => refusing.stored.length === 6, 10000);
    await waitFor('delivered to the slow destination', () => slow.stored.length === 6, 10000);
  });
});
