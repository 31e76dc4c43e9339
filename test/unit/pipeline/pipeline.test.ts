import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassifyOutcome } from '../../../src/classify/classification';
import { BodyrouteError } from '../../../src/errors';
import { Pipeline, PipelineOptions } from '../../../src/pipeline/pipeline';
import { Region } from '../../../src/regions/region';
import { Router } from '../../../src/route/router';
import { Spool } from '../../../src/spool/spool';
import { SpooledObject } from '../../../src/spool/spooled-object';
import { RegionLabel } from '../../../src/tag/tagger';
import { FakeClock, until } from '../../helpers/fake-clock';
import { recordingLogger } from '../../helpers/recording-logger';
import { writeSyntheticImage } from '../../helpers/synthetic-dicom';

/** Stands in for the classifier: each object gets the outcome the test gives its Series Description. */
class FakeClassifier {
  calls = 0;
  constructor(private readonly outcomes: Record<string, ClassifyOutcome>) {}
  async classify(path: string): Promise<ClassifyOutcome> {
    this.calls++;
    const text = readFileSync(path, 'latin1');
    const key = Object.keys(this.outcomes).find((k) => text.includes(k));
    return key ? this.outcomes[key] : { kind: 'skipped', reason: 'not named by the test' };
  }
}

/** Records the labels it is asked to write; throws TAG_IMPOSSIBLE for the ids the test names. */
class FakeTagWriter {
  readonly labels = new Map<string, RegionLabel>();
  readonly impossible = new Set<string>();
  async write(obj: SpooledObject, label: RegionLabel): Promise<SpooledObject> {
    if (this.impossible.has(obj.id)) throw new BodyrouteError('TAG_IMPOSSIBLE', 'cannot write the label: no free private block', false);
    this.labels.set(obj.id, label);
    return obj;
  }
}

/** Commits into the real spool (inbox → store) instead of journals and queues; can be made to fail. */
class FakeDispatcher {
  /** Every commit fails while set (a journal that cannot be written). */
  broken = false;
  /** Commits of these ids fail once each. */
  readonly failOnce = new Set<string>();
  readonly tries: string[] = [];
  readonly committed: { id: string; to: string[]; path: string }[] = [];
  constructor(private readonly spool: Spool) {}
  async commitRouted(obj: SpooledObject, to: readonly string[]): Promise<SpooledObject> {
    this.tries.push(obj.id);
    if (this.broken || this.failOnce.delete(obj.id)) throw new Error('EIO: cannot append to the journal');
    const stored = await this.spool.promote(obj);
    this.committed.push({ id: obj.id, to: [...to], path: stored.path });
    return stored;
  }
}

const classified = (scores: Partial<Record<Region, number>>): ClassifyOutcome => {
  const [region, confidence] = Object.entries(scores).sort((a, b) => b[1] - a[1])[0] as [Region, number];
  return {
    kind: 'classified',
    sopInstanceUid: '1.2',
    modality: 'CT',
    model: 'fake 1.0.0',
    frameIndex: 0,
    numberOfFrames: 1,
    region,
    confidence,
    scores,
    evidence: 'image',
    imageRegion: region,
  };
};

describe('pipeline (stage runner: fake classifier, tag writer and dispatcher, real spool folder)', () => {
  let tmp: string;
  let spool: Spool;
  let pipeline: Pipeline | undefined;
  let dispatcher: FakeDispatcher;
  let tagWriter: FakeTagWriter;
  let clock: FakeClock;

  const router = new Router([
    { when: { region: ['head'] }, to: ['neuro'], continue: false },
    { when: { region: ['unclassified'] }, to: ['archive'], continue: false },
  ]);

  async function openSpool(): Promise<Spool> {
    const s = new Spool({ dir: join(tmp, 'spool'), minFreeBytes: 0, maxObjectBytes: 1 << 30 }, recordingLogger().log);
    await s.init();
    return s;
  }

  beforeEach(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bodyroute-pipeline-'));
    spool = await openSpool();
    dispatcher = new FakeDispatcher(spool);
    tagWriter = new FakeTagWriter();
    clock = new FakeClock();
  });

  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    rmSync(tmp, { recursive: true, force: true });
  });

  function start(classifier: FakeClassifier, options: Partial<PipelineOptions> = {}): Pipeline {
    pipeline = new Pipeline({
      maxAttempts: 3,
      retryDelayMs: 1000,
      clock,
      spool,
      classifier,
      tagWriter,
      mode: 'image',
      seriesStableMs: 1000,
      router,
      dispatcher,
      log: recordingLogger().log,
      ...options,
    });
    return pipeline;
  }

  async function received(seriesDescription: string, series?: { uid: string; z: number; instance: number }): Promise<SpooledObject> {
    const id = spool.newId();
    writeSyntheticImage(spool.inboxPath(id), {
      rows: 8,
      columns: 8,
      seriesDescription,
      seriesUid: series?.uid,
      z: series?.z,
      instanceNumber: series?.instance,
    });
    return spool.load(id, spool.inboxPath(id));
  }

  const aside = (folder: 'quarantine' | 'unrouted', id: string, ext: 'dcm' | 'txt') => join(spool.layout.aside(folder), `${id}.${ext}`);

  it("routes by the classifier's region, labels the object and commits it for those destinations", async () => {
    start(new FakeClassifier({ HEAD: classified({ head: 0.9 }) }));
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('committed', () => dispatcher.committed.length === 1);
    expect(dispatcher.committed[0]).to.deep.equal({ id: obj.id, to: ['neuro'], path: spool.storePath(obj.id) });
    expect(tagWriter.labels.get(obj.id)).to.deep.include({ imageRegion: 'head', confidence: 0.9 });
    expect(existsSync(spool.inboxPath(obj.id))).to.equal(false);
  });

  it('keeps an object no rule matches in unrouted/ with the reason, and commits nothing', async () => {
    start(new FakeClassifier({ KNEE: classified({ knee: 0.9 }) }));
    const obj = await received('KNEE');
    pipeline!.submit(obj);
    await until('unrouted', () => existsSync(aside('unrouted', obj.id, 'dcm')));
    expect(readFileSync(aside('unrouted', obj.id, 'txt'), 'utf8')).to.match(/no routing rule matched \(regions knee, modality CT\)/);
    expect(dispatcher.tries).to.deep.equal([]);
  });

  it('routes an object the classifier skipped as unclassified, without a label', async () => {
    start(new FakeClassifier({}));
    const obj = await received('REPORT');
    pipeline!.submit(obj);
    await until('committed', () => dispatcher.committed.length === 1);
    expect(dispatcher.committed[0].to).to.deep.equal(['archive']);
    expect(tagWriter.labels.size).to.equal(0);
  });

  it('without a classifier, routes every object as unclassified', async () => {
    start(new FakeClassifier({}), { classifier: undefined });
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('committed', () => dispatcher.committed.length === 1);
    expect(dispatcher.committed[0].to).to.deep.equal(['archive']);
  });

  it('quarantines at once an object a stage fails (tagging.onFailure: quarantine), naming the stage; never retried', async () => {
    start(new FakeClassifier({ HEAD: classified({ head: 0.9 }) }), { onTagFailure: 'quarantine' });
    const obj = await received('HEAD');
    tagWriter.impossible.add(obj.id);
    pipeline!.submit(obj);
    await until('quarantined', () => existsSync(aside('quarantine', obj.id, 'dcm')));
    expect(readFileSync(aside('quarantine', obj.id, 'txt'), 'utf8').trim()).to.equal('tagging: cannot write the label: no free private block');
    await clock.advance(10000);
    expect(dispatcher.tries).to.deep.equal([]);
  });

  it('forwards as received an object the label cannot be written into (tagging.onFailure: forward-untagged)', async () => {
    start(new FakeClassifier({ HEAD: classified({ head: 0.9 }) }), { onTagFailure: 'forward-untagged' });
    const obj = await received('HEAD');
    tagWriter.impossible.add(obj.id);
    pipeline!.submit(obj);
    await until('committed', () => dispatcher.committed.length === 1);
    expect(dispatcher.committed[0].to).to.deep.equal(['neuro']);
  });

  it('quarantines a poison object after pipeline.maxAttempts tries at one stage, naming it, instead of retrying forever', async () => {
    const classifier = new FakeClassifier({ HEAD: classified({ head: 0.9 }) });
    start(classifier);
    dispatcher.broken = true;
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('first try, retry scheduled', () => dispatcher.tries.length === 1 && clock.pending === 1);
    await clock.advance(999);
    expect(dispatcher.tries.length, 'no second try before retryDelayMs').to.equal(1);
    await clock.advance(1);
    await until('second try, retry scheduled', () => dispatcher.tries.length === 2 && clock.pending === 1);
    await clock.advance(1000);
    await until('quarantined after the third', () => existsSync(aside('quarantine', obj.id, 'dcm')) && !existsSync(spool.layout.attempts(obj.id)));
    expect(dispatcher.tries.length).to.equal(3);
    expect(classifier.calls, 'a retry runs the failed stage again, not the ones before').to.equal(1);
    expect(readFileSync(aside('quarantine', obj.id, 'txt'), 'utf8').trim()).to.equal('routing: EIO: cannot append to the journal (gave up after 3 attempts)');
    expect(existsSync(spool.inboxPath(obj.id))).to.equal(false);
    await clock.advance(10000);
    expect(dispatcher.tries.length, 'no try after the quarantine').to.equal(3);
  });

  it('keeps the attempt count across a restart: a poison object is not given a fresh count', async () => {
    start(new FakeClassifier({ HEAD: classified({ head: 0.9 }) }));
    dispatcher.broken = true;
    const obj = await received('HEAD');
    pipeline!.submit(obj);
    await until('first try, retry scheduled', () => dispatcher.tries.length === 1 && clock.pending === 1);
    await clock.advance(1000);
    await until('second try, retry scheduled', () => dispatcher.tries.length === 2 && clock.pending === 1);
    expect(JSON.parse(readFileSync(spool.layout.attempts(obj.id), 'utf8'))).to.deep.equal({ routing: 2 });
    await pipeline!.stop();

    // a new process on the same spool
    spool = await openSpool();
    dispatcher = new FakeDispatcher(spool);
    dispatcher.broken = true;
    start(new FakeClassifier({ HEAD: classified({ head: 0.9 }) }));
    expect(await pipeline!.recoverInbox()).to.equal(1);
    await until('quarantined on the first try after the restart', () => existsSync(aside('quarantine', obj.id, 'dcm')));
    expect(dispatcher.tries).to.deep.equal([obj.id]);
    expect(readFileSync(aside('quarantine', obj.id, 'txt'), 'utf8')).to.match(/\(gave up after 3 attempts\)/);
  });

  it('series mode: a series whose delivery of one image is retried keeps one label for all its images', async () => {
    // alone, the third image would be labelled neck; with its series it is head
    const classifier = new FakeClassifier({
      SLICE1: classified({ head: 0.9, neck: 0.1 }),
      SLICE2: classified({ head: 0.9, neck: 0.1 }),
      SLICE3: classified({ head: 0.4, neck: 0.6 }),
    });
    start(classifier, { mode: 'series', seriesClassify: 'all' });
    const objs = [];
    for (let k = 1; k <= 3; k++) objs.push(await received(`SLICE${k}`, { uid: '1.2.3.4', z: -10 * k, instance: k }));
    dispatcher.failOnce.add(objs[2].id);
    for (const o of objs) pipeline!.submit(o);
    await until('held as a series', () => pipeline!.backlog === 3 && classifier.calls === 3 && clock.pending === 1);
    await clock.advance(1000);
    await until('two committed, one waiting', () => dispatcher.committed.length === 2 && dispatcher.tries.length === 3 && clock.pending === 1);
    await clock.advance(1000);
    await until('the third committed by the retry', () => dispatcher.committed.length === 3);
    expect(classifier.calls, 'not classified again').to.equal(3);
    expect(dispatcher.committed.map((c) => c.to)).to.deep.equal([['neuro'], ['neuro'], ['neuro']]);
    const seriesLabels = objs.map((o) => tagWriter.labels.get(o.id)?.series);
    expect(seriesLabels).to.deep.equal([0, 1, 2].map(() => ({ regions: ['head'], term: 'HEAD' })));
    expect(tagWriter.labels.get(objs[2].id)?.imageRegion, 'the image keeps its own region in the private block').to.equal('neck');
  });

  it('series mode, sampled: holds the series, classifies a sample of its slices, and gives every slice a region and the one series label', async () => {
    const classifier = new FakeClassifier({ SAMPLED: classified({ head: 0.9, neck: 0.1 }) });
    start(classifier, { mode: 'series', seriesClassify: 'sampled' });
    const objs = [];
    for (let k = 1; k <= 30; k++) objs.push(await received('SAMPLED', { uid: '1.2.3.5', z: -5 * k, instance: k }));
    for (const o of objs) pipeline!.submit(o);
    await until('held before classification', () => pipeline!.backlog === 30 && clock.pending === 1);
    expect(classifier.calls, 'nothing classified while the series arrives').to.equal(0);
    await clock.advance(1000);
    await until('all committed', () => dispatcher.committed.length === 30);
    expect(classifier.calls, 'a sample: the stride and both ends').to.be.within(3, 15);
    expect(new Set(objs.map((o) => JSON.stringify(tagWriter.labels.get(o.id)?.series)))).to.deep.equal(
      new Set([JSON.stringify({ regions: ['head'], term: 'HEAD' })]),
    );
  });
});
