import { expect } from 'chai';
import { evaluateSeries, SeriesEvalImage } from '../../../src/commands/series-eval';

const sc = (region: string, p = 0.9): Record<string, number> => ({
  chest: region === 'chest' ? p : (1 - p) / 2,
  abdomen: region === 'abdomen' ? p : (1 - p) / 2,
  knee: region === 'knee' ? p : (1 - p) / 2,
});

describe('classify/series-eval (eval --series)', () => {
  it('smooths along the slices, then scores series and images', async () => {
    const chest: SeriesEvalImage[] = [1, 2, 3, 4, 5].map((n) => ({
      seriesInstanceUid: '1.1',
      instanceNumber: n,
      truth: 'chest',
      scores: sc(n === 3 ? 'knee' : 'chest', n === 3 ? 0.6 : 0.9),
    }));
    const knee: SeriesEvalImage[] = [1, 2, 3].map((n) => ({ seriesInstanceUid: '1.2', instanceNumber: n, truth: 'knee', scores: sc('abdomen') }));
    const loose: SeriesEvalImage = { truth: 'chest' };
    const r = await evaluateSeries([...chest, ...knee, loose]);
    expect(r.series).to.equal(2);
    // the isolated knee slice in the chest series is outvoted; the knee series is wrong throughout
    expect(r.seriesAccuracy).to.equal(1 / 2);
    expect(r.smoothedImageAccuracy).to.equal(5 / 9);
    expect(r.imagesWithoutSeries).to.equal(1);
    // short series are classified whole: sampling changes nothing
    expect(r.sampling).to.deep.equal({ sameLabel: 2, series: 2, classifiedShare: 1 });
  });

  it('compares series.classify: sampled with classifying every slice, on a long series', async () => {
    const long: SeriesEvalImage[] = Array.from({ length: 120 }, (_, i) => ({
      seriesInstanceUid: '1.3',
      instanceNumber: i + 1,
      truth: i < 70 ? 'chest' : 'abdomen',
      scores: sc(i < 70 ? 'chest' : 'abdomen'),
    }));
    const r = await evaluateSeries(long);
    expect(r.sampling.sameLabel).to.equal(1);
    expect(r.sampling.classifiedShare).to.be.below(0.25);
  });
});
