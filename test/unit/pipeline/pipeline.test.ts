import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassifyOutcome } from '../../../src/classify/classification';
import { Dispatcher } from '../../../src/dispatch/dispatcher';
import { BodyrouteError } from '../../../src/errors';
import { Pipeline } from '../../../src/pipeline/pipeline';
import { Stage, StageResult } from '../../../src/pipeline/stage';
import { Router } from '../../../src/route/router';
import { Spool } from '../../../src/spool/spool';
import { SpooledObject } from '../../../src/spool/spooled-object';
import { FakeClock, until } from '../../helpers/fake-clock';
import { recordingLogger } from '../../helpers/recording-logger';
import { writeSyntheticImage } from '../../helpers/synthetic-dicom';

/** Stands in for the classifier: gives each object the outcome the test names, by SOP Instance UID order. */
class FakeClassifyStage implements Stage {
  readonly name = 'classify';
  constructor(private readonly outcome: (obj: SpooledObject) => ClassifyOutcome | 'fail') {}
  async run(obj: SpooledObject): Promise<StageResult> {
    const o = this.outcome(obj);
    if (o === 'fail') return { kind: 'fail', error: new BodyrouteError('OBJECT_MALFORMED', 'cannot be classified', false) };
    return { kind: 'ok', object: { ...obj, classification: o } };
  }
}

/** Records what the pipeline commits instead of sending it anywhere (the commit's own order is tested with the dispatcher). */
class FakeDispatcher {
  /** Set to make every commit fail (a journal that cannot be written). */
  broken = false;
  commits = 0;
  constructor(private readonly spool: Spool) {}
  async commitRouted(obj: SpooledObject, to: readonly string[]): Promise<SpooledObject> {
    this.commits++;
    if (this.broken) throw new Error('EIO: cannot append to the journal');
    await this.journal(obj, to);
    const stored = await this.spool.promote(obj);
    this.activate(stored, to);
    return stored;
  }

  readonly journalled: { id: string; to: string[] }[] = [];
  readonly activated: { id: string; to: string[]; path: string }[] = [];
  async journal(obj: { id: string; path: string }, to: readonly string[]): Promise<void> {
    this.journalled.push({ id: obj.id, to: [...to] });
  }
  activate(obj: { id: string; path: string }, to: readonly string[]): void {
    this.activated.push({ id: obj.id, to: [...to], path: obj.path });
  }
}

const classified = (region: 'head' | 'knee'): ClassifyOutcome => ({
  kind: 'classified',
  sopInstanceUid: '1.2',
  modality: 'CT',
  model: 'fake 1.0.0',
  frameIndex: 0,
  numberOfFrames: 1,
  region,
  confidence: 0.9,
  scores: { [region]: 0.9 },
  evidence: 'image',
  imageRegion: region,
});

describe('pipeline (fake classifier stage, fake dispatcher, real spool folder)', () => {
  let tmp: string;
  let spool: Spool;
  let pipeline: Pipeline | undefined;
  let dispatcher: FakeDispatcher;

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-pipeline-'));
    spool = new Spool({ dir: join(tmp, 'spool'), minFreeBytes: 0, maxObjectBytes: 1 << 30 }, recordingLogger().log);
    await spool.init();
    dispatcher = new FakeDispatcher(spool);
  });

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  function start(stage: Stage, clock?: FakeClock): void {
    pipeline = new Pipeline({
      maxAttempts: 3,
      retryDelayMs: 1000,
      clock,
      spool,
      stages: [stage],
      mode: 'image',
      seriesStableMs: 1000,
      router: new Router([
        { when: { region: ['head'] }, to: ['neuro'], continue: false },
        { when: { region: ['unclassified'] }, to: ['archive'], continue: false },
      ]),
      dispatcher: dispatcher as unknown as Dispatcher,
      log: recordingLogger().log,
    });
  }

  async function received(seriesDescription: string): Promise<SpooledObject> {
    const id = spool.newId();
    writeSyntheticImage(spool.inboxPath(id), { rows: 8, columns: 8, seriesDescription });
    return spool.load(id, spool.inboxPath(id));
  }

  it("routes by the stage's region and commits the object for those destinations", async () => {
    start(new FakeClassifyStage(() => classified('head')));
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('activated', () => dispatcher.activated.length === 1);
    expect(dispatcher.journalled).to.deep.equal([{ id: obj.id, to: ['neuro'] }]);
    expect(dispatcher.activated[0]).to.deep.include({ id: obj.id, to: ['neuro'], path: spool.storePath(obj.id) });
    expect(existsSync(spool.inboxPath(obj.id))).to.equal(false);
    expect(existsSync(spool.storePath(obj.id))).to.equal(true);
  });

  it('sends an object no rule matches to unrouted/ with the reason, and hands nothing to the dispatcher', async () => {
    start(new FakeClassifyStage(() => classified('knee')));
    const obj = await received('KNEE');
    pipeline!.submit(obj);
    const reason = join(spool.layout.aside('unrouted'), `${obj.id}.txt`);
    // the reason is written first, the object moved last
    await until('unrouted', () => existsSync(join(spool.layout.aside('unrouted'), `${obj.id}.dcm`)));
    expect(readFileSync(reason, 'utf8')).to.match(/no routing rule matched \(regions knee, modality CT\)/);
    expect(existsSync(join(spool.layout.aside('unrouted'), `${obj.id}.dcm`))).to.equal(true);
    expect(dispatcher.journalled).to.deep.equal([]);
  });

  it('routes an object the stage could not classify as unclassified', async () => {
    start(new FakeClassifyStage(() => ({ kind: 'skipped', reason: 'modality SR: only CT and MR are classified' })));
    const obj = await received('REPORT');
    pipeline!.submit(obj);
    await until('activated', () => dispatcher.activated.length === 1);
    expect(dispatcher.activated[0].to).to.deep.equal(['archive']);
  });

  it('quarantines an object a stage fails, naming the stage', async () => {
    start(new FakeClassifyStage(() => 'fail'));
    const obj = await received('BAD');
    pipeline!.submit(obj);
    const reason = join(spool.layout.aside('quarantine'), `${obj.id}.txt`);
    await until('quarantined', () => existsSync(join(spool.layout.aside('quarantine'), `${obj.id}.dcm`)));
    expect(readFileSync(reason, 'utf8').trim()).to.equal('classify: cannot be classified');
    expect(dispatcher.journalled).to.deep.equal([]);
  });

  it('quarantines a poison object after pipeline.maxAttempts tries, naming the step, instead of retrying forever', async () => {
    const clock = new FakeClock();
    start(new FakeClassifyStage(() => classified('head')), clock);
    dispatcher.broken = true;
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('first try', () => dispatcher.commits === 1);
    await clock.advance(999);
    expect(dispatcher.commits, 'no second try before retryDelayMs').to.equal(1);
    await clock.advance(1);
    await until('second try', () => dispatcher.commits === 2);
    await clock.advance(1000);
    const reason = join(spool.layout.aside('quarantine'), `${obj.id}.txt`);
    await until('quarantined after the third', () => existsSync(join(spool.layout.aside('quarantine'), `${obj.id}.dcm`)));
    expect(dispatcher.commits).to.equal(3);
    expect(readFileSync(reason, 'utf8').trim()).to.equal('commit: EIO: cannot append to the journal (gave up after 3 attempts)');
    expect(existsSync(spool.inboxPath(obj.id))).to.equal(false);
    await clock.advance(10000);
    expect(dispatcher.commits, 'no try after the quarantine').to.equal(3);
  });
});
