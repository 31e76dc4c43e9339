import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readFileMeta } from '../../../src/dicom/part10';
import { readSlotRecord } from '../../../src/spool/slot-files';
import { Spool } from '../../../src/spool/spool';
import { SpooledObject } from '../../../src/spool/spooled-object';
import { recordingLogger } from '../../helpers/recording-logger';
import { syntheticImage, writeSyntheticImage } from '../../helpers/synthetic-dicom';

const ORIGIN = { callingAeTitle: 'CT1', calledAeTitle: 'BODYROUTE', remoteAddress: '127.0.0.1', receivedAt: '2026-12-04T00:00:00Z' };

/** Receives a synthetic image into the spool as the SCP does, in 4 KiB pieces; returns it committed and its dataset. */
async function receive(spool: Spool, rows: number): Promise<{ obj: SpooledObject; dataset: Buffer }> {
  const image = syntheticImage({ rows, columns: rows });
  const meta = readFileMeta(image.bytes);
  const dataset = image.bytes.subarray(meta.datasetOffset);
  const id = spool.newId();
  const writer = spool.beginReceive(id, meta.sopClassUid, meta.sopInstanceUid, meta.transferSyntaxUid, ORIGIN);
  for (let at = 0; at < dataset.length; at += 4096) writer.write(dataset.subarray(at, at + 4096));
  const written = await writer.finish();
  const obj = await spool.commit(id, written, { ...meta, origin: ORIGIN, headerBytes: writer.headerBytes });
  return { obj, dataset };
}

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

  it('receives a new object over a delivered object’s file: the inbox file holds the new object and nothing of the old', async () => {
    const spool = await open();
    const big = await receive(spool, 64);
    await spool.removeStored((await spool.promote(big.obj)).id);
    expect(spool.spares.size, 'the delivered file is kept as a spare').to.equal(1);
    expect(readdirSync(spool.layout.store)).to.deep.equal([]);

    const small = await receive(spool, 8);
    expect(spool.spares.size, 'the spare was written over').to.equal(0);
    expect(readdirSync(spool.layout.spare), 'no spare left: it was renamed into tmp/ and committed').to.deep.equal([]);
    const file = readFileSync(small.obj.path);
    expect(file.length).to.equal(small.obj.sizeBytes);
    expect(file.subarray(small.obj.datasetOffset).equals(small.dataset)).to.equal(true);
    expect((await spool.load(small.obj.id, small.obj.path)).sopInstanceUid).to.equal(small.obj.sopInstanceUid);

    await spool.close();
    expect(readdirSync(spool.layout.spare), 'no spare outlives the spool').to.deep.equal([]);
  });

  it('with slot files acknowledges a receive in its slot, promotes it from there, and after a restart moves it to the inbox', async () => {
    const dir = join(tmp, 'spool');
    const withSlots = async () => {
      const s = new Spool({ dir, minFreeBytes: 0, maxObjectBytes: 1 << 30, slotFiles: 4 }, recordingLogger().log);
      await s.init();
      return s;
    };
    const spool = await withSlots();
    const plain = await receive(spool, 16);
    expect(plain.obj.path, 'no slot ready yet: the plain way').to.equal(spool.inboxPath(plain.obj.id));
    await spool.slots.settled();

    const promoted = await receive(spool, 32);
    expect(dirname(promoted.obj.path)).to.equal(spool.layout.slots);
    expect(await readSlotRecord(promoted.obj.path)).to.deep.include({ id: promoted.obj.id, fileBytes: promoted.obj.sizeBytes });
    const stored = await spool.promote(promoted.obj);
    expect(readFileSync(stored.path).subarray(promoted.obj.datasetOffset).equals(promoted.dataset)).to.equal(true);
    expect(readFileSync(stored.path).subarray(128, 132).toString('latin1')).to.equal('DICM');

    const left = await receive(spool, 8);
    expect(dirname(left.obj.path)).to.equal(spool.layout.slots);
    // a receive cut short by a crash: the bytes so far, no record yet
    writeFileSync(join(spool.layout.slots, 'cut-short.slot'), readFileSync(left.obj.path).subarray(0, 4000).fill(0, 0, 128));
    // a slot made from the delivered object's file: its record names the slot it was received in, never this one
    const deliveredBytes = readFileSync(stored.path);
    await spool.removeStored(stored.id);
    writeFileSync(join(spool.layout.slots, 'made-from-a-spare.slot'), deliveredBytes);
    expect(await readSlotRecord(join(spool.layout.slots, 'made-from-a-spare.slot'))).to.equal(undefined);

    // one that cannot be read: kept aside, since it may hold an acknowledged object
    mkdirSync(join(spool.layout.slots, 'unreadable.slot'));

    const again = await withSlots();
    expect(await again.listIds(again.inboxDir)).to.deep.equal([plain.obj.id, left.obj.id].sort());
    const aside = readdirSync(again.layout.aside('quarantine')).sort();
    expect(aside).to.have.length(2);
    expect(readFileSync(join(again.layout.aside('quarantine'), aside[1]), 'utf8')).to.match(/^slot file unreadable\.slot unreadable at start: EISDIR/);
    expect(readdirSync(again.layout.slots), 'slots without an acknowledged object are deleted').to.deep.equal([]);
    const reloaded = await again.load(left.obj.id, again.inboxPath(left.obj.id));
    expect(reloaded.sopInstanceUid).to.equal(left.obj.sopInstanceUid);
    expect(readFileSync(reloaded.path).subarray(reloaded.datasetOffset).equals(left.dataset)).to.equal(true);
    await again.close();
  });

  it('names files by its own ids only', () => {
    mkdirSync(tmp, { recursive: true });
    expect(Spool.idOfFile('0000000000a-000001-deadbeef.dcm')).to.equal('0000000000a-000001-deadbeef');
    expect(Spool.idOfFile('../../etc/passwd.dcm')).to.equal(undefined);
    expect(Spool.idOfFile('0000000000a-000001-deadbeef.attempts')).to.equal(undefined);
  });
});
