import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterBox } from '../../../src/dispatch/dead-letter';
import { DeliveryItem } from '../../../src/dispatch/delivery-item';
import { DeliveryJournal } from '../../../src/dispatch/delivery-journal';
import { DestinationQueue } from '../../../src/dispatch/destination-queue';
import { Sender } from '../../../src/dispatch/sender';
import { BodyrouteError } from '../../../src/errors';
import { FakeClock, until } from '../../helpers/fake-clock';
import { recordingLogger } from '../../helpers/recording-logger';

/** A sender that records what it was given and fails as the test scripts it. */
class FakeSender implements Sender {
  readonly description = 'fake';
  readonly calls: string[] = [];
  readonly delivered: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly outcome: (id: string, call: number) => BodyrouteError | undefined = () => undefined,
    private readonly hold?: Promise<void>,
  ) {}

  async send(item: DeliveryItem): Promise<void> {
    this.calls.push(item.id);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.hold) await this.hold;
      const err = this.outcome(item.id, this.calls.filter((id) => id === item.id).length);
      if (err) throw err;
      this.delivered.push(item.id);
    } finally {
      this.inFlight--;
    }
  }

  async idle(): Promise<void> {}
  async close(): Promise<void> {}
}

const RETRY = { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 8000, factor: 2 };

describe('dispatch/destination-queue (fake sender, fake clock)', () => {
  let tmp: string;
  let clock: FakeClock;
  let queue: DestinationQueue | undefined;
  let journal: DeliveryJournal;

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-queue-'));
    clock = new FakeClock();
    journal = new DeliveryJournal(join(tmp, 'pacs.journal'));
    await journal.open();
  });

  afterEach(async () => {
    const stopping = queue?.stop();
    await clock.advance(0);
    await stopping;
    await journal.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function item(id: string): DeliveryItem {
    const path = join(tmp, `${id}.dcm`);
    writeFileSync(path, 'DICM');
    return {
      id,
      path,
      datasetOffset: 0,
      sizeBytes: 4,
      sopClassUid: '1.2',
      sopInstanceUid: `1.2.${id}`,
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      studyInstanceUid: '1',
      seriesInstanceUid: '2',
    };
  }

  function start(senders: Sender[], settled: string[]): ReturnType<typeof recordingLogger> {
    const rec = recordingLogger();
    queue = new DestinationQueue({
      name: 'pacs',
      senders,
      journal,
      deadLetters: new DeadLetterBox(join(tmp, 'dead')),
      retry: RETRY,
      idleReleaseMs: 2000,
      log: rec.log,
      onSettled: (id) => settled.push(id),
      clock,
    });
    queue.start();
    return rec;
  }

  const journalLines = () => readFileSync(join(tmp, 'pacs.journal'), 'utf8').split('\n').filter(Boolean);

  it('paused: keeps queueing and sends nothing; resumed: delivers what waited; its status says so', async () => {
    const sender = new FakeSender();
    const settled: string[] = [];
    start([sender], settled);
    queue!.pause();
    for (const id of ['a', 'b']) queue!.add(item(id));
    await clock.advance(120000);
    expect(sender.calls, 'nothing sent while paused').to.deep.equal([]);
    expect(queue!.status()).to.deep.include({ state: 'paused', queued: 2, delivered: 0 });
    queue!.resume();
    await until('both delivered', () => settled.length === 2);
    expect(queue!.status()).to.deep.include({ state: 'up', queued: 0, delivered: 2 });
  });

  it('delivers in arrival order and journals each delivery', async () => {
    const sender = new FakeSender();
    const settled: string[] = [];
    start([sender], settled);
    for (const id of ['a', 'b', 'c']) queue!.add(item(id));
    await until('three deliveries journalled', () => settled.length === 3);
    expect(sender.delivered).to.deep.equal(['a', 'b', 'c']);
    expect(journalLines()).to.deep.equal(['-a', '-b', '-c']);
  });

  it('retries a failing object after backoff, behind the others, and dead-letters it after retry.maxAttempts', async () => {
    const sender = new FakeSender((id) => (id === 'a' ? new BodyrouteError('DEST_STATUS_RETRYABLE', 'answered 0xA700', true, '0xA700') : undefined));
    const settled: string[] = [];
    const { entries } = start([sender], settled);
    for (const id of ['a', 'b', 'c']) queue!.add(item(id));
    await until('b and c delivered while a waits', () => sender.delivered.length === 2);
    expect(sender.calls.filter((id) => id === 'a')).to.have.length(1);
    await clock.advance(999);
    expect(
      sender.calls.filter((id) => id === 'a'),
      'no retry before the first backoff (1 s)',
    ).to.have.length(1);
    await clock.advance(1);
    await until('second attempt', () => sender.calls.filter((id) => id === 'a').length === 2);
    await clock.advance(1999);
    expect(
      sender.calls.filter((id) => id === 'a'),
      'no retry before the second backoff (2 s)',
    ).to.have.length(2);
    await clock.advance(1);
    await until('a dead-lettered', () => settled.includes('a'));
    expect(sender.calls.filter((id) => id === 'a')).to.have.length(3);
    const record = JSON.parse(readFileSync(join(tmp, 'dead', 'pacs', 'a.json'), 'utf8')) as { attempts: number; code: string; status: string };
    expect(record).to.include({ attempts: 3, code: 'DEST_STATUS_RETRYABLE' });
    expect(record.status).to.match(/A700/i);
    expect(journalLines()).to.include('!a');
    expect(entries.filter((e) => e.message === 'delivery failed; will retry').map((e) => e.retryInMs)).to.deep.equal([1000, 2000]);
  });

  it('counts the attempts an object already used before a restart', async () => {
    const sender = new FakeSender(() => new BodyrouteError('DEST_STATUS_RETRYABLE', 'answered 0xA700', true, '0xA700'));
    const settled: string[] = [];
    start([sender], settled);
    queue!.add(item('a'), 2); // the journal said: failed twice before the restart
    await until('dead-lettered', () => settled.length === 1);
    expect(sender.calls).to.deep.equal(['a']);
    expect(JSON.parse(readFileSync(join(tmp, 'dead', 'pacs', 'a.json'), 'utf8'))).to.include({ attempts: 3 });
  });

  it('journals every failed attempt', async () => {
    const sender = new FakeSender((_id, call) => (call === 1 ? new BodyrouteError('DEST_STATUS_RETRYABLE', 'answered 0xA700', true, '0xA700') : undefined));
    const settled: string[] = [];
    start([sender], settled);
    queue!.add(item('a'));
    await until('first attempt journalled', () => journalLines().includes('~a 1'));
    await clock.advance(1000);
    await until('delivered', () => settled.length === 1);
    expect(journalLines()).to.deep.equal(['~a 1', '-a']);
  });

  it('dead-letters a non-retryable status at once, and counts it in its status', async () => {
    const sender = new FakeSender(() => new BodyrouteError('DEST_STATUS_FATAL', 'answered 0xA900', false, '0xA900'));
    const settled: string[] = [];
    start([sender], settled);
    queue!.add(item('a'));
    await until('dead-lettered', () => settled.length === 1);
    expect(sender.calls).to.deep.equal(['a']);
    // the status page's view: counted, and the last error kept with the destination's own status
    expect(queue!.status()).to.deep.include({ failedAttempts: 1, deadLettered: 1, queued: 0 });
    expect(queue!.status().lastError).to.deep.include({ code: 'DEST_STATUS_FATAL', status: '0xA900' });
    expect(readdirSync(join(tmp, 'dead', 'pacs')).sort()).to.deep.equal(['a.dcm', 'a.json']);
  });

  it("waits out a destination that is down without using up the objects' attempts, then delivers", async () => {
    const sender = new FakeSender((_id, call) => (call <= 5 ? new BodyrouteError('DEST_UNREACHABLE', 'cannot connect: ECONNREFUSED', true) : undefined));
    const settled: string[] = [];
    const { entries } = start([sender], settled);
    queue!.add(item('a'));
    await until('first attempt', () => sender.calls.length === 1);
    // 1 + 2 + 4 + 8 + 8 s of destination-level backoff: five refusals, more than maxAttempts (3)
    for (const wait of [1000, 2000, 4000, 8000, 8000]) await clock.advance(wait);
    await until('delivered', () => settled.length === 1);
    expect(sender.delivered).to.deep.equal(['a']);
    expect(readdirSync(tmp)).not.to.include('dead');
    expect(entries.filter((e) => e.message === 'destination unavailable; objects stay queued').map((e) => e.retryInMs)).to.deep.equal([
      1000, 2000, 4000, 8000, 8000,
    ]);
    expect(entries.some((e) => e.message === 'destination available again')).to.equal(true);
  });

  it('sends over every lane at once', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const lanes = [new FakeSender(undefined, hold), new FakeSender(undefined, hold)];
    const settled: string[] = [];
    start(lanes, settled);
    for (const id of ['a', 'b', 'c', 'd']) queue!.add(item(id));
    await until('both lanes sending', () => lanes.every((l) => l.inFlight === 1));
    release();
    await until('all delivered', () => settled.length === 4);
    expect([...lanes[0].delivered, ...lanes[1].delivered].sort()).to.deep.equal(['a', 'b', 'c', 'd']);
  });
});
