import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load';
import { Config } from '../../../src/config/schema';
import { DeliveryItem } from '../../../src/dispatch/delivery-item';
import { Dispatcher } from '../../../src/dispatch/dispatcher';
import { Sender } from '../../../src/dispatch/sender';
import { BodyrouteError } from '../../../src/errors';
import { DatasetEdits, editsFromParts, editsPathFor, encodeEdits } from '../../../src/spool/dataset-edits';
import { Spool } from '../../../src/spool/spool';
import { FakeClock, until } from '../../helpers/fake-clock';
import { recordingLogger } from '../../helpers/recording-logger';
import { writeSyntheticImage } from '../../helpers/synthetic-dicom';

/** The edits each object was sent with, by destination/id. */
const sentEdits = new Map<string, DatasetEdits>();

/** Delivers, or refuses for good, as the test says; records per destination. */
class FakeSender implements Sender {
  readonly description = 'fake';
  constructor(
    private readonly name: string,
    private readonly delivered: Map<string, string[]>,
    private readonly refuse: Set<string>,
  ) {}
  async send(item: DeliveryItem): Promise<void> {
    if (this.refuse.has(this.name)) throw new BodyrouteError('DEST_STATUS_FATAL', 'answered 0xA900', false, '0xA900');
    this.delivered.set(this.name, [...(this.delivered.get(this.name) ?? []), item.id]);
    if (item.edits) sentEdits.set(`${this.name}/${item.id}`, item.edits);
  }
  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('dispatch/dispatcher (fake senders, real spool folder)', () => {
  let tmp: string;
  let cfg: Config;
  let spool: Spool;
  let dispatcher: Dispatcher | undefined;
  const delivered = new Map<string, string[]>();
  const refuse = new Set<string>();

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-dispatcher-'));
    delivered.clear();
    sentEdits.clear();
    refuse.clear();
    cfg = parseConfig(
      {
        spool: { dir: join(tmp, 'spool'), minFreeBytes: 0 },
        destinations: [
          { name: 'a', type: 'folder', path: 'a' },
          { name: 'b', type: 'folder', path: 'b' },
        ],
        routes: [{ to: ['a', 'b'] }],
      },
      tmp,
    );
    spool = new Spool({ dir: cfg.spool.dir, minFreeBytes: 0, maxObjectBytes: 1 << 30 }, recordingLogger().log);
    await spool.init();
  });

  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  async function startDispatcher(): Promise<Dispatcher> {
    dispatcher = new Dispatcher(cfg, spool, recordingLogger().log, { makeSender: (d) => new FakeSender(d.name, delivered, refuse), clock: new FakeClock() });
    await dispatcher.init();
    await dispatcher.recoverStored();
    await dispatcher.start();
    return dispatcher;
  }

  /** An object as the pipeline leaves it: in store/, its deliveries journalled. */
  async function stored(d: Dispatcher, destinations: string[]): Promise<string> {
    const id = spool.newId();
    writeSyntheticImage(spool.storePath(id), { rows: 8, columns: 8 });
    const obj = await spool.load(id, spool.storePath(id));
    await d.journal(obj, destinations);
    d.activate(obj, destinations);
    return id;
  }

  it('removes a stored object once every destination it was routed to has settled it, delivered or dead-lettered', async () => {
    refuse.add('b');
    const d = await startDispatcher();
    const id = await stored(d, ['a', 'b']);
    await until('settled everywhere', () => !existsSync(spool.storePath(id)));
    expect(delivered.get('a')).to.deep.equal([id]);
    expect(existsSync(join(spool.layout.deadFor('b'), `${id}.json`))).to.equal(true);
  });

  it('after a restart, delivers what the journal still holds, though the object never reached a queue before the crash', async () => {
    const first = await startDispatcher();
    refuse.add('a');
    refuse.add('b');
    const id = spool.newId();
    writeSyntheticImage(spool.storePath(id), { rows: 8, columns: 8 });
    const obj = await spool.load(id, spool.storePath(id));
    await first.journal(obj, ['a', 'b']);
    // stopped before it was handed to the queues: a crash between journal and activation
    await first.stop();
    dispatcher = undefined;
    refuse.clear();
    await startDispatcher();
    await until('recovered and delivered to both', () => delivered.get('a')?.length === 1 && delivered.get('b')?.length === 1);
    await until('removed', () => !existsSync(spool.storePath(id)));
  });

  it("after a restart, sends a stored object with the edits its journal line carries, or an earlier version's <id>.edits file, removed with it", async () => {
    const first = await startDispatcher();
    const edits = editsFromParts([{ copy: [0, 10] }, { bytes: Buffer.from('bodyroute block') }, { copy: [10, 40] }]);
    const journalled = spool.newId();
    writeSyntheticImage(spool.storePath(journalled), { rows: 8, columns: 8 });
    await first.journal({ ...(await spool.load(journalled, spool.storePath(journalled))), edits }, ['a', 'b']);
    const legacy = spool.newId();
    writeSyntheticImage(spool.storePath(legacy), { rows: 8, columns: 8 });
    // journalled the way an earlier version did: the edits beside the file, not in the line
    await first.journal(await spool.load(legacy, spool.storePath(legacy)), ['a']);
    writeFileSync(editsPathFor(spool.storePath(legacy)), encodeEdits(edits) + '\n');
    expect(readFileSync(spool.layout.journal('a'), 'utf8')).to.equal(`+${journalled} ${encodeEdits(edits)}\n+${legacy}\n`);
    // stopped before they were handed to the queues: a crash between journal and activation
    await first.stop();
    dispatcher = undefined;
    await startDispatcher();
    await until('recovered and delivered', () => delivered.get('a')?.length === 2 && delivered.get('b')?.length === 1);
    for (const key of [`a/${journalled}`, `b/${journalled}`, `a/${legacy}`]) expect(sentEdits.get(key)?.parts, key).to.deep.equal(edits.parts);
    await until('removed, the edits file too', () => readdirSync(spool.storeDir).length === 0);
  });

  it('commits a routed object in order: journalled while still in the inbox, then promoted to the store, then queued', async () => {
    const d = await startDispatcher();
    const id = spool.newId();
    writeSyntheticImage(spool.inboxPath(id), { rows: 8, columns: 8 });
    const obj = await spool.load(id, spool.inboxPath(id));
    const promote = spool.promote.bind(spool);
    let journalAtPromotion = '';
    spool.promote = async (o) => {
      journalAtPromotion = readFileSync(spool.layout.journal('a'), 'utf8');
      return promote(o);
    };
    const stored = await d.commitRouted(obj, ['a']);
    expect(journalAtPromotion).to.equal(`+${id}\n`);
    expect(stored.path).to.equal(spool.storePath(id));
    await until('delivered', () => delivered.get('a')?.length === 1);
  });

  it('takes back what `bodyroute requeue` put in requeue/<destination>/ for that destination only', async () => {
    const id = spool.newId();
    mkdirSync(spool.layout.requeueFor('b'), { recursive: true });
    writeSyntheticImage(join(tmp, 'dead.dcm'), { rows: 8, columns: 8 });
    renameSync(join(tmp, 'dead.dcm'), join(spool.layout.requeueFor('b'), `${id}.dcm`));
    await startDispatcher(); // takes requeue/ in at start, then every 2 s
    await until('delivered to b', () => delivered.get('b')?.length === 1);
    expect(delivered.get('b')).to.deep.equal([id]);
    expect(delivered.get('a')).to.equal(undefined);
  });

  it('adds a destination live and routes nothing to one it does not know', async () => {
    const d = await startDispatcher();
    const { applied } = await d.reconfigure([...cfg.destinations, { name: 'c', type: 'folder', path: join(tmp, 'c') }], cfg.retry);
    expect(applied).to.deep.equal(['destinations.c (added)']);
    await stored(d, ['c']);
    await until('delivered to the new destination', () => delivered.get('c')?.length === 1);
    const refused = await d.journal({ id: 'x' } as never, ['nowhere']).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).to.match(/unknown destination nowhere/);
  });

  it('pauses and resumes a destination, keeping the pause on disk; one added live keeps a pause it was given', async () => {
    const d = await startDispatcher();
    await d.pause('a');
    expect(d.statuses().find((s) => s.name === 'a')?.state).to.equal('paused');
    expect(JSON.parse(readFileSync(spool.layout.paused, 'utf8'))).to.deep.equal(['a']);
    await d.resume('a');
    expect(d.statuses().find((s) => s.name === 'a')?.state).to.equal('up');
    writeFileSync(spool.layout.paused, JSON.stringify(['c']));
    await d.reconfigure([...cfg.destinations, { name: 'c', type: 'folder', path: join(tmp, 'c') }], cfg.retry);
    expect(d.statuses().find((s) => s.name === 'c')?.state).to.equal('paused');
    const unknown = await d.pause('nowhere').then(
      () => undefined,
      (err: Error) => err,
    );
    expect(unknown?.message).to.match(/no destination named "nowhere"/);
  });
});
