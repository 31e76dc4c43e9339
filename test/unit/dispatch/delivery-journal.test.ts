import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal } from '../../../src/dispatch/delivery-journal';

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
});
