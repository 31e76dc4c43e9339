import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { RoutedEvent } from '../../../src/observability/telemetry';
import { appendCorrection } from '../../../src/review/corrections';
import { RecentSeries } from '../../../src/review/recent-series';

const event = (series: string, n: number, extra: Partial<RoutedEvent> = {}): RoutedEvent => ({
  at: 1000 + n,
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: series,
  sopInstanceUid: `${series}.${n}`,
  callingAeTitle: 'CT1',
  modality: 'CT',
  seriesDescription: 'THORAX',
  instanceNumber: n,
  regions: ['chest'],
  imageRegion: 'chest',
  confidence: 0.8,
  destinations: ['pacs'],
  preview: new Uint8Array(16).fill(n),
  previewSize: 4,
  ...extra,
});

describe('review/recent-series and corrections', () => {
  it('sums a series up, newest first, and flags a header that names another region', () => {
    const r = new RecentSeries();
    for (let n = 1; n <= 3; n++) r.routed(event('1.9.1', n));
    r.routed(event('1.9.2', 1, { regions: ['knee'], headerRegions: ['head'], confidence: 0.4 }));
    const [latest, first] = r.list();
    expect(latest).to.deep.include({ seriesInstanceUid: '1.9.2', headerDisagrees: true, regions: ['knee'] });
    expect(first).to.deep.include({ seriesInstanceUid: '1.9.1', images: 3, headerDisagrees: false, hasThumbnail: true });
    expect(first.confidence).to.be.closeTo(0.8, 1e-9);
    expect(r.regionCounts()).to.deep.include.members([
      { modality: 'CT', region: 'chest', objects: 3 },
      { modality: 'CT', region: 'knee', objects: 1 },
    ]);
  });

  it("shows the middle slice's preview as PNG, keeping only a few previews however long the series", () => {
    const r = new RecentSeries();
    for (let n = 1; n <= 101; n++) r.routed(event('1.9.3', n));
    const png = PNG.sync.read(r.thumbnail('1.9.3') as Buffer);
    expect([png.width, png.height]).to.deep.equal([4, 4]);
    expect(png.data[0]).to.be.within(40, 62);
    expect(r.thumbnail('1.9.404')).to.equal(undefined);
  });

  it('forgets the oldest series beyond 500', () => {
    const r = new RecentSeries();
    for (let s = 0; s < 510; s++) r.routed(event(`1.8.${s}`, 1, { preview: undefined }));
    const list = r.list();
    expect(list).to.have.length(500);
    expect(list[list.length - 1].seriesInstanceUid).to.equal('1.8.10');
  });

  it('appends a correction as one CSV row per instance, with a header once', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'bodyroute-corr-'));
    try {
      const path = join(tmp, 'corrections.csv');
      const r = new RecentSeries();
      for (let n = 1; n <= 2; n++) r.routed(event('1.9.5', n));
      const found = r.find('1.9.5')!;
      const at = new Date(Date.UTC(2026, 11, 4));
      expect(await appendCorrection(path, { ...found.view, instances: found.instances, complete: found.complete }, 'knee', at)).to.equal(2);
      await appendCorrection(path, { ...found.view, instances: found.instances, complete: false }, 'thigh', at);
      expect(readFileSync(path, 'utf8').split('\n')).to.deep.equal([
        'time,studyInstanceUid,seriesInstanceUid,sopInstanceUid,correctedRegion,modelRegion',
        '2026-12-04T00:00:00.000Z,1.2.3,1.9.5,1.9.5.1,knee,chest',
        '2026-12-04T00:00:00.000Z,1.2.3,1.9.5,1.9.5.2,knee,chest',
        '2026-12-04T00:00:00.000Z,1.2.3,1.9.5,,thigh,',
        '',
      ]);
      await appendCorrection(path, { ...found.view, instances: found.instances, complete: true }, 'brain' as never, at).then(
        () => expect.fail('accepted a word that is not a region'),
        (err: Error) => expect(err.message).to.match(/not a region/),
      );
      expect(existsSync(path)).to.equal(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
