import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../../src/spool/spool';
import { recordingLogger } from '../../helpers/recording-logger';
import { syntheticImage, writeSyntheticImage } from '../../helpers/synthetic-dicom';
import { readFileMeta } from '../../../src/dicom/part10';

describe('spool: start-up recovery, promotion and setting aside (real folder)', () => {
  let tmp: string;
  const open = async () => {
    const s = new Spool({ dir: join(tmp, 'spool'), minFreeBytes: 0, maxObjectBytes: 1 << 30 }, recordingLogger().log);
    await s.init();
    return s;
  };

  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'bodyroute-spool-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('at start removes what was never acknowledged and what is made again, and keeps inbox objects with their attempt counts', async () => {
    const first = await open();
    const kept = first.newId();
    writeSyntheticImage(first.inboxPath(kept), { rows: 8, columns: 8 });
    writeFileSync(join(first.layout.tmp, 'x.part'), 'half a receive');
    writeFileSync(first.inboxPath(kept).replace(/\.dcm$/, '.edits'), 'edits');
    writeFileSync(first.layout.taggedCopy(kept), 'tagged');
    writeFileSync(first.layout.attempts(kept), '{"routing":2}\n');
    writeFileSync(first.layout.attempts('gone-000000-00000000'), '{"routing":1}\n');
    writeFileSync(`${first.layout.attempts(kept)}.123.tmp`, '{');
    const again = await open();
    expect(readdirSync(again.layout.tmp)).to.deep.equal([]);
    expect(readdirSync(again.layout.inbox).sort()).to.deep.equal([`${kept}.attempts`, `${kept}.dcm`]);
    expect(await again.attempts.read(kept)).to.deep.equal({ routing: 2 });
    expect(await again.listIds(again.inboxDir)).to.deep.equal([kept]);
  });

  it('promotes an object with its edits into the store, and sets another aside with its reason and without its siblings', async () => {
    const spool = await open();
    const a = spool.newId();
    writeSyntheticImage(spool.inboxPath(a), { rows: 8, columns: 8 });
    const obj = await spool.load(a, spool.inboxPath(a));
    const stored = await spool.promote(obj);
    expect(stored.path).to.equal(spool.storePath(a));
    expect(existsSync(spool.inboxPath(a))).to.equal(false);

    const b = spool.newId();
    writeSyntheticImage(spool.inboxPath(b), { rows: 8, columns: 8 });
    writeFileSync(spool.layout.taggedCopy(b), 'tagged');
    await spool.attempts.record(b, 'routing');
    await spool.setAside({ id: b, path: spool.inboxPath(b) }, 'quarantine', 'routing: EIO (gave up after 10 attempts)');
    expect(readFileSync(join(spool.layout.aside('quarantine'), `${b}.txt`), 'utf8')).to.equal('routing: EIO (gave up after 10 attempts)\n');
    expect(existsSync(join(spool.layout.aside('quarantine'), `${b}.dcm`))).to.equal(true);
    expect(readdirSync(spool.layout.inbox)).to.deep.equal([]);
  });

  it('keeps a received dataset in memory for sending until the object leaves the store, and never for a tagged copy', async () => {
    const spool = await open();
    const receive = async () => {
      const img = syntheticImage({ rows: 64, columns: 64 });
      const meta = readFileMeta(img.bytes);
      const dataset = img.bytes.subarray(meta.datasetOffset);
      const id = spool.newId();
      const origin = { callingAeTitle: 'CT1', calledAeTitle: 'BODYROUTE', remoteAddress: '127.0.0.1', receivedAt: '' };
      const writer = spool.beginReceive(id, meta.sopClassUid, meta.sopInstanceUid, meta.transferSyntaxUid, origin);
      // as PDVs arrive
      for (let at = 0; at < dataset.length; at += 1000) writer.write(dataset.subarray(at, at + 1000));
      const written = await writer.finish();
      const obj = await spool.commit(id, written, { ...meta, origin, headerBytes: writer.headerBytes });
      return { obj, dataset };
    };
    const first = await receive();
    expect(first.obj.resident?.equals(first.dataset)).to.equal(true);
    expect(readFileSync(first.obj.path).subarray(first.obj.datasetOffset).equals(first.dataset)).to.equal(true);
    expect(spool.resident.usedBytes).to.equal(first.dataset.length);
    const stored = await spool.promote(first.obj);
    expect(stored.resident).to.equal(first.obj.resident);
    await spool.removeStored(stored.id);
    expect(spool.resident.usedBytes).to.equal(0);

    const second = await receive();
    writeFileSync(spool.layout.taggedCopy(second.obj.id), readFileSync(second.obj.path));
    const tagged = { path: spool.layout.taggedCopy(second.obj.id), sizeBytes: second.obj.sizeBytes, datasetOffset: second.obj.datasetOffset };
    const promoted = await spool.promote({ ...second.obj, tagged });
    expect([promoted.resident, spool.resident.usedBytes]).to.deep.equal([undefined, 0]);
  });

  it('names files by its own ids only', () => {
    mkdirSync(tmp, { recursive: true });
    expect(Spool.idOfFile('0000000000a-000001-deadbeef.dcm')).to.equal('0000000000a-000001-deadbeef');
    expect(Spool.idOfFile('../../etc/passwd.dcm')).to.equal(undefined);
    expect(Spool.idOfFile('0000000000a-000001-deadbeef.attempts')).to.equal(undefined);
  });
});
