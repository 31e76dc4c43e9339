import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readSlotRecord, SlotFiles } from '../../../src/spool/slot-files';
import { encodeSlotRecord, SLOT_RECORD_BYTES, verifySlotRecord } from '../../../src/spool/slot-record';
import { SpareFiles } from '../../../src/spool/spare-files';
import { FakeClock } from '../../helpers/fake-clock';

const ID = '0000mhx2k3a-000001-0a1b2c3d';

/** A file as a receive into slot `name` leaves it: preamble record, then `body`. */
function slotFile(path: string, body: Buffer, overrides: { name?: string; id?: string; fileBytes?: number } = {}): void {
  const fileBytes = overrides.fileBytes ?? SLOT_RECORD_BYTES + body.length;
  const record = encodeSlotRecord({ slotName: overrides.name ?? basename(path), id: overrides.id ?? ID, fileBytes }, crc32(body));
  writeFileSync(path, Buffer.concat([record, body]));
}

describe('slot record: what proves an object acknowledged in a slot file', () => {
  const body = Buffer.from('DICM and the rest of the object');
  const record = (name = 'a.slot') => encodeSlotRecord({ slotName: name, id: ID, fileBytes: SLOT_RECORD_BYTES + body.length }, crc32(body));

  it('reads back the record of a whole object written into its own slot file', () => {
    expect(verifySlotRecord(record(), crc32(body), SLOT_RECORD_BYTES + body.length, 'a.slot')).to.deep.equal({
      slotName: 'a.slot',
      id: ID,
      fileBytes: SLOT_RECORD_BYTES + body.length,
    });
  });

  it('proves nothing for another slot file’s record, another length, a changed byte or a zero preamble', () => {
    const length = SLOT_RECORD_BYTES + body.length;
    expect(verifySlotRecord(record('b.slot'), crc32(body), length, 'a.slot'), 'a delivered object’s file made into a slot').to.equal(undefined);
    expect(verifySlotRecord(record(), crc32(body), length + 10, 'a.slot'), 'longer than recorded').to.equal(undefined);
    const torn = Buffer.from(body);
    torn[3] ^= 1;
    expect(verifySlotRecord(record(), crc32(torn), length, 'a.slot'), 'a block that never reached the disk').to.equal(undefined);
    expect(verifySlotRecord(Buffer.alloc(SLOT_RECORD_BYTES), 0, length, 'a.slot'), 'never written').to.equal(undefined);
    const flipped = record();
    flipped[70] ^= 1;
    expect(verifySlotRecord(flipped, crc32(body), length, 'a.slot'), 'a changed id').to.equal(undefined);
  });
});

describe('slot files: made ready ahead of receives, checked after a crash (real folder, fake clock)', () => {
  let tmp: string;
  let clock: FakeClock;
  let spares: SpareFiles;
  const slotsDir = () => join(tmp, 'slots');
  const open = async (target = 4, keepMs = 10_000) => {
    spares = new SpareFiles(join(tmp, 'spare'), clock, 8, keepMs);
    await spares.init();
    const slots = new SlotFiles(slotsDir(), spares, target, clock, keepMs);
    return { slots, found: await slots.init() };
  };

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-slots-'));
    clock = new FakeClock();
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('has none ready at first, fills up in the background, and makes them from spares first', async () => {
    const { slots } = await open(4);
    mkdirSync(join(tmp, 'store'));
    const delivered = join(tmp, 'store', 'x.dcm');
    writeFileSync(delivered, Buffer.alloc(5000, 7));
    await spares.give(delivered, () => Promise.resolve());
    expect(slots.take(), 'the first receive goes the plain way').to.equal(undefined);
    await slots.settled();
    expect(slots.size).to.equal(4);
    expect(readdirSync(slotsDir())).to.have.length(4);
    expect(spares.size, 'the spare became a slot').to.equal(0);
    expect(slots.bytes, 'its bytes count as free space').to.equal(5000);
    const taken = [slots.take(), slots.take()];
    expect(taken.map((s) => s?.overwriting)).to.deep.equal([true, false]);
    await Promise.all(taken.map((s) => s?.handle.close()));
    await slots.settled();
    expect(slots.size, 'refilled when half were taken').to.equal(4);
    await slots.close();
    expect(readdirSync(slotsDir()), 'the taken slots are their receives’ to keep or delete').to.have.length(2);
  });

  it('deletes slots unused for the keep time and every ready slot at close', async () => {
    const { slots } = await open(2, 1000);
    slots.take();
    await slots.settled();
    expect(slots.size).to.equal(2);
    await clock.advance(1000);
    expect(slots.size).to.equal(0);
    expect(readdirSync(slotsDir())).to.deep.equal([]);
    slots.take();
    await slots.settled();
    await slots.close();
    expect(readdirSync(slotsDir())).to.deep.equal([]);
    expect(slots.take(), 'none after close').to.equal(undefined);
    await slots.settled();
    expect(readdirSync(slotsDir())).to.deep.equal([]);
  });

  it('after a crash keeps only the slot files whose record proves a whole object, and deletes the rest', async () => {
    mkdirSync(slotsDir(), { recursive: true });
    const body = Buffer.alloc(70_000, 3);
    slotFile(join(slotsDir(), 'good.slot'), body);
    slotFile(join(slotsDir(), 'stale.slot'), body, { name: 'other.slot' });
    slotFile(join(slotsDir(), 'short.slot'), body, { fileBytes: 1000 });
    const torn = join(slotsDir(), 'torn.slot');
    slotFile(torn, body);
    const bytes = Buffer.alloc(SLOT_RECORD_BYTES + body.length);
    writeFileSync(torn, Buffer.concat([readRecord(torn), body.subarray(0, 4096), Buffer.alloc(body.length - 4096, 9)]));
    writeFileSync(join(slotsDir(), 'empty.slot'), '');
    writeFileSync(join(slotsDir(), 'zeros.slot'), bytes);
    // one that cannot be read may hold an acknowledged object: reported, never deleted
    mkdirSync(join(slotsDir(), 'unreadable.slot'));
    const { found } = await open();
    expect(found.acknowledged.map((f) => basename(f.path))).to.deep.equal(['good.slot']);
    expect(found.acknowledged[0].record.id).to.equal(ID);
    expect(found.unreadable.map((f) => [basename(f.path), f.reason])).to.deep.equal([['unreadable.slot', 'EISDIR: illegal operation on a directory, read']]);
    expect(readdirSync(slotsDir()).sort()).to.deep.equal(['good.slot', 'unreadable.slot']);
    expect(await readSlotRecord(join(slotsDir(), 'good.slot'))).to.deep.include({ id: ID });
    expect(existsSync(torn)).to.equal(false);
  });
});

function readRecord(path: string): Buffer {
  return readFileSync(path).subarray(0, SLOT_RECORD_BYTES);
}
