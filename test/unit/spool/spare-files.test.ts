import { expect } from 'chai';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpareFiles } from '../../../src/spool/spare-files';
import { FakeClock } from '../../helpers/fake-clock';

describe('spare files: delivered objects’ files kept briefly to receive new objects into (real folder, fake clock)', () => {
  let tmp: string;
  let clock: FakeClock;
  const synced = () => Promise.resolve();
  const delivered = (name: string, text = name) => {
    const path = join(tmp, 'store', name);
    writeFileSync(path, text);
    return path;
  };
  const open = async (max = 4, keepMs = 10_000) => {
    const spares = new SpareFiles(join(tmp, 'spare'), clock, max, keepMs);
    await spares.init();
    return spares;
  };

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-spare-'));
    mkdirSync(join(tmp, 'store'));
    clock = new FakeClock();
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('keeps a delivered file as a spare, hands out the newest first, and deletes what is over the limit', async () => {
    const spares = await open(2);
    await spares.give(delivered('a.dcm'), synced);
    await spares.give(delivered('b.dcm'), synced);
    await spares.give(delivered('c.dcm'), synced);
    expect(readdirSync(join(tmp, 'store')), 'every name is gone from the store').to.deep.equal([]);
    expect(spares.size).to.equal(2);
    expect(spares.bytes, 'the disk space they hold, free for the taking').to.equal('a.dcm'.length + 'b.dcm'.length);
    const newest = spares.take() as string;
    expect(readFileSync(newest, 'utf8')).to.equal('b.dcm');
    expect(readFileSync(spares.take() as string, 'utf8')).to.equal('a.dcm');
    expect(spares.take()).to.equal(undefined);
  });

  it('hands a spare out only once the removal from the store is durable, and deletes it when that fsync fails', async () => {
    const spares = await open();
    let syncStore!: () => void;
    const giving = spares.give(
      delivered('a.dcm'),
      () =>
        new Promise<void>((resolve) => {
          syncStore = resolve;
        }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(spares.take(), 'not before the store folder is synced').to.equal(undefined);
    syncStore();
    await giving;
    expect(spares.size).to.equal(1);

    await spares.give(delivered('b.dcm'), () => Promise.reject(new Error('EIO')));
    expect(spares.size).to.equal(1);
    expect(readdirSync(join(tmp, 'spare'))).to.have.length(1);
  });

  it('deletes the file when its folder of spares is gone (removed by hand)', async () => {
    const spares = await open();
    rmSync(join(tmp, 'spare'), { recursive: true });
    const path = delivered('a.dcm');
    await spares.give(path, synced);
    expect(existsSync(path)).to.equal(false);
    expect(spares.size).to.equal(0);
  });

  it('never keeps a file another name links to (a dead letter): writing over it would change that copy too', async () => {
    const spares = await open();
    const path = delivered('a.dcm', 'the refused object');
    const deadLetter = join(tmp, 'dead-a.dcm');
    linkSync(path, deadLetter);
    await spares.give(path, synced);
    expect(spares.size).to.equal(0);
    expect(existsSync(path)).to.equal(false);
    expect(readFileSync(deadLetter, 'utf8')).to.equal('the refused object');
  });

  it('deletes spares not reused within keepMs, and every spare at close, keeping none after it', async () => {
    const spares = await open(8, 10_000);
    await spares.give(delivered('a.dcm'), synced);
    await clock.advance(6_000);
    await spares.give(delivered('b.dcm'), synced);
    await clock.advance(4_000);
    expect(spares.size, 'a expired, b has 6 s left').to.equal(1);
    expect(readFileSync(spares.take() as string, 'utf8')).to.equal('b.dcm');
    await spares.give(delivered('c.dcm'), synced);
    await clock.advance(10_000);
    expect(spares.size).to.equal(0);
    expect(readdirSync(join(tmp, 'spare')), 'b was taken: its owner deletes or renames it').to.have.length(1);

    await spares.give(delivered('d.dcm'), synced);
    await spares.close();
    expect(spares.size).to.equal(0);
    await spares.give(delivered('e.dcm'), synced);
    expect(spares.size).to.equal(0);
    expect(existsSync(join(tmp, 'store', 'e.dcm'))).to.equal(false);
    expect(clock.pending, 'no sweep left behind').to.equal(0);
  });

  it('empties its folder at start: spares left by an earlier run', async () => {
    const first = await open();
    await first.give(delivered('a.dcm'), synced);
    await first.give(delivered('b.dcm'), synced);
    const again = await open();
    expect(again.size).to.equal(0);
    expect(readdirSync(join(tmp, 'spare'))).to.deep.equal([]);
  });
});
