import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal } from '../../../src/dispatch/delivery-journal';
import { decodeEdits, DatasetEdits, editsFromParts, encodeEdits } from '../../../src/spool/dataset-edits';

describe('dispatch/delivery-journal', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'journal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays enqueued minus delivered and dead-lettered, in order', async () => {
    const path = join(dir, 'pacs.journal');
    const j = new DeliveryJournal(path);
    expect(await j.open()).to.deep.equal([]);
    await Promise.all(['a', 'b', 'c', 'd'].map((id) => j.enqueue(id)));
    await j.delivered('b');
    await j.deadLettered('d');
    await j.close();
    const again = new DeliveryJournal(path);
    expect(await again.open()).to.deep.equal(['a', 'c']);
    await again.close();
    expect(readFileSync(path, 'utf8')).to.equal('+a\n+c\n'); // compacted on open
  });

  it('keeps the failed-attempt counts of pending objects across a restart and a compaction', async () => {
    const path = join(dir, 'pacs.journal');
    const j = new DeliveryJournal(path);
    await j.open();
    await j.enqueue('a');
    await j.enqueue('b');
    await j.attempted('a', 1);
    await j.attempted('a', 2);
    await j.attempted('b', 1);
    await j.delivered('b');
    await j.close();
    const again = new DeliveryJournal(path);
    expect(await again.open()).to.deep.equal(['a']);
    expect([again.attemptsOf('a'), again.attemptsOf('b'), again.attemptsOf('new')]).to.deep.equal([2, 0, 0]);
    await again.close();
    expect(readFileSync(path, 'utf8')).to.equal('+a\n~a 2\n');
    const third = new DeliveryJournal(path);
    await third.open();
    expect(third.attemptsOf('a')).to.equal(2);
    await third.close();
  });

  it('ignores a torn last line (crash in the middle of an append)', async () => {
    const path = join(dir, 'x.journal');
    appendFileSync(path, '+a\n+b\n-a\n+');
    const j = new DeliveryJournal(path);
    expect(await j.open()).to.deep.equal(['b']);
    await j.close();
  });

  it('starts afresh once nothing is pending and it has grown', async () => {
    const path = join(dir, 'y.journal');
    const j = new DeliveryJournal(path);
    await j.open();
    await j.enqueue('a');
    await j.delivered('a');
    await j.truncateIfIdle(0, 2);
    await j.close();
    expect(readFileSync(path, 'utf8')).to.equal('');
  });

  const EDITS: DatasetEdits = editsFromParts([{ copy: [0, 100] }, { bytes: Buffer.from('private block') }, { copy: [100, 500] }]);

  it('keeps the edits an object was enqueued with across a restart and a compaction, in memory until taken or recovery is over', async () => {
    const path = join(dir, 'edits.journal');
    const j = new DeliveryJournal(path);
    await j.open();
    await j.enqueue('a', encodeEdits(EDITS));
    await j.enqueue('b');
    await j.close();
    for (let run = 0; run < 2; run++) {
      const again = new DeliveryJournal(path);
      expect(await again.open()).to.deep.equal(['a', 'b']);
      const text = again.takeEdits('a') as string;
      expect(decodeEdits(text, 500, 'a').parts).to.deep.equal(EDITS.parts);
      expect([again.takeEdits('a'), again.takeEdits('b')]).to.deep.equal([undefined, undefined]);
      await again.close();
    }
    expect(readFileSync(path, 'utf8').split('\n')[0]).to.match(/^\+a \{"version":1,/);
    const third = new DeliveryJournal(path);
    await third.open();
    third.forgetReplayedEdits();
    expect(third.takeEdits('a')).to.equal(undefined);
    await third.close();
    // forgetting is of memory only: the line keeps its edits
    expect(readFileSync(path, 'utf8').split('\n')[0]).to.match(/^\+a \{"version":1,/);
  });

  it("drops an enqueue line cut short inside its edits (it was never fsync'd, so never promoted)", async () => {
    const path = join(dir, 'torn.journal');
    const j = new DeliveryJournal(path);
    await j.open();
    await j.enqueue('a', encodeEdits(EDITS));
    await j.close();
    const whole = readFileSync(path, 'utf8');
    appendFileSync(path, whole.replace('+a', '+b').slice(0, 30));
    const again = new DeliveryJournal(path);
    expect(await again.open()).to.deep.equal(['a']);
    await again.close();
  });

  it('fsyncs a delivered line with the next append or within the delay, and at close, not on its own at once', async () => {
    const path = join(dir, 'lazy.journal');
    const j = new DeliveryJournal(path, 40);
    await j.open();
    let syncs = 0;
    const handle = (j as unknown as { handle: { datasync: () => Promise<void> } }).handle;
    const datasync = handle.datasync.bind(handle);
    handle.datasync = () => {
      syncs++;
      return datasync();
    };
    await j.enqueue('a');
    expect(syncs).to.equal(1);
    await j.delivered('a');
    expect(syncs).to.equal(1);
    expect(readFileSync(path, 'utf8')).to.equal('+a\n-a\n'); // written at once, durable later
    await new Promise((r) => setTimeout(r, 100));
    expect(syncs).to.equal(2);
    await j.delivered('b');
    await j.enqueue('c');
    expect(syncs).to.equal(3); // the enqueue's fsync took the delivered line along
    await new Promise((r) => setTimeout(r, 100));
    expect(syncs).to.equal(3);
    await j.delivered('c');
    await j.close();
    expect(syncs).to.equal(4);
  });
});
