import { expect } from 'chai';
import { sampleSeries } from '../../../src/classify/series-sampling';

/** A series whose true regions are given per slice; classification returns the truth and counts calls. */
async function sample(truth: string[], unusable: number[] = []) {
  const calls: number[] = [];
  const r = await sampleSeries(
    truth.length,
    async (i) => {
      calls.push(i);
      return { region: unusable.includes(i) ? 'error' : truth[i], usable: !unusable.includes(i) };
    },
    (t) => t.region,
    (t) => t.usable,
  );
  return { ...r, calls, regions: r.results.map((t) => t.region) };
}

describe('classify/series-sampling', () => {
  it('classifies a 500-slice series with two boundaries in a few dozen slices and gets every slice right', async () => {
    const truth = [...Array(180).fill('chest'), ...Array(200).fill('abdomen'), ...Array(120).fill('pelvis')];
    const r = await sample(truth);
    expect(r.regions).to.deep.equal(truth);
    expect(r.classified).to.be.below(40);
    expect(new Set(r.calls).size, 'no slice classified twice').to.equal(r.calls.length);
  });

  it('classifies a short series whole', async () => {
    const r = await sample(['head', 'neck', 'head', 'head']);
    expect(r.classified).to.equal(4);
    expect(r.regions).to.deep.equal(['head', 'neck', 'head', 'head']);
  });

  it('gives each skipped slice its nearest classified neighbour, never an unusable one when another is as near', async () => {
    const truth = Array(40).fill('knee');
    const r = await sample(truth, [0]);
    expect(r.regions.slice(1)).to.deep.equal(Array(39).fill('knee'));
    expect(r.regions[0]).to.equal('error');
    expect(r.sourceOf.every((s, i) => s === i || r.calls.includes(s))).to.equal(true);
  });

  it('an isolated different slice between two samples of the same region is not looked for', async () => {
    const truth = Array(100).fill('chest');
    truth[37] = 'abdomen';
    const r = await sample(truth);
    expect(r.regions.filter((x) => x === 'abdomen')).to.have.length(r.calls.includes(37) ? 1 : 0);
    expect(r.classified).to.be.at.most(14);
  });
});
