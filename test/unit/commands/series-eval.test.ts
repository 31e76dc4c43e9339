import { expect } from 'chai';
import { evaluateSeries, SeriesEvalImage } from '../../../src/commands/series-eval';

const sc = (region: string, p = 0.9): Record<string, number> => ({
  chest: region === 'chest' ? p : (1 - p) / 2,
  abdomen: region === 'abdomen' ? p : (1 - p) / 2,
  knee: region === 'knee' ? p : (1 - p) / 2,
});

describe('classify/series-eval (eval --series)', () => {
  it('smooths along the slices, then scores series and images', () => {
    const chest: SeriesEvalImage[] = [1, 2, 3, 4, 5].map((n) => ({
      seriesInstanceUid: '1.1',
      instanceNumber: n,
      truth: 'chest',
      scores: sc(n === 3 ? 'knee' : 'chest', n === 3 ? 0.6 : 0.9),
    }));
    const knee: SeriesEvalImage[] = [1, 2, 3].map((n) => ({ seriesInstanceUid: '1.2', instanceNumber: n, truth: 'knee', scores: sc('abdomen') }));
    const loose: SeriesEvalImage = { truth: 'chest' };
    const r = evaluateSeries([...chest, ...knee, loose]);
    expect(r.series).to.equal(2);
    // the isolated knee slice in the chest series is outvoted; the knee series is wrong throughout
    expect(r.seriesAccuracy).to.equal(1 / 2);
    expect(r.smoothedImageAccuracy).to.equal(5 / 9);
    expect(r.imagesWithoutSeries).to.equal(1);
  });
});
