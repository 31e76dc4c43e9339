import { expect } from 'chai';
import { decide, fuseHeader, HEADER_PRIOR_WEIGHT } from '../../../src/classify/classification';
import { Region, REGION_VOCABULARY } from '../../../src/regions/region';

const classes: Region[] = ['head', 'chest', 'knee', 'shoulder'];
/** Logits whose softmax (temperature 1) is the given probabilities. */
const logitsOf = (p: number[]) => p.map(Math.log);

describe('classify/classification: header fusion', () => {
  it('a confident image overrules a wrong header', () => {
    const d = decide(logitsOf([0.01, 0.01, 0.97, 0.01]), classes, 1, 0.5, ['shoulder']);
    expect(d.region).to.equal('knee');
    expect(d.evidence).to.equal('image+header');
    expect(d.imageRegion).to.equal('knee');
    expect(d.headerRegions).to.deep.equal(['shoulder']);
  });

  it('an unsure image follows the header', () => {
    const d = decide(logitsOf([0.1, 0.1, 0.5, 0.3]), classes, 1, 0.5, ['shoulder']);
    expect(d.imageRegion).to.equal('knee');
    expect(d.region).to.equal('shoulder');
    expect(d.confidence).to.be.closeTo((0.3 * HEADER_PRIOR_WEIGHT) / (0.7 + 0.3 * HEADER_PRIOR_WEIGHT), 1e-9);
  });

  it('a missing header leaves the image alone', () => {
    const image = decide(logitsOf([0.1, 0.1, 0.5, 0.3]), classes, 1, 0.45);
    expect(image).to.include({ region: 'knee', evidence: 'image' });
    expect(image.headerRegions).to.equal(undefined);
    expect(decide(logitsOf([0.1, 0.1, 0.5, 0.3]), classes, 1, 0.45, [])).to.include({ region: 'knee', evidence: 'image' });
    expect(fuseHeader({ a: 0.5, b: 0.5 }, [])).to.equal(undefined);
  });

  // a model of 18 regions without hand, as the shipped one
  const withoutHand = REGION_VOCABULARY.filter((r) => r !== 'hand');
  const imageOf = (region: Region, p: number) => withoutHand.map((r) => Math.log(r === region ? p : (1 - p) / (withoutHand.length - 1)));

  it('a header naming a region the model has no class for decides it when the image is unsure (evidence: header)', () => {
    const d = decide(imageOf('forearm', 0.4), withoutHand, 1, 0.3, ['hand']);
    const hand = (1 / withoutHand.length) * HEADER_PRIOR_WEIGHT;
    expect(d).to.include({ region: 'hand', evidence: 'header', imageRegion: 'forearm' });
    expect(d.confidence).to.be.closeTo(hand / (1 + hand), 1e-9);
    expect(d.headerRegions).to.deep.equal(['hand']);
    expect(Object.keys(d.scores)).to.have.members([...withoutHand, 'hand']);
    expect(Object.values(d.scores).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
  });

  it('a region only the header names is given even under the unknown threshold (its fused share cannot reach a threshold like 0.35)', () => {
    const d = decide(imageOf('forearm', 0.2), withoutHand, 1, 0.35, ['hand']);
    expect(d.confidence).to.be.lessThan(0.35);
    expect(d).to.include({ region: 'hand', evidence: 'header' });
    // a model's own class under the threshold stays unknown, header or not
    expect(decide(imageOf('forearm', 0.03), withoutHand, 1, 0.35, ['forearm']).region).to.equal('unknown');
    expect(decide(imageOf('forearm', 0.2), withoutHand, 1, 0.35).region).to.equal('unknown');
  });

  it('a confident image overrules a wrong header naming a region the model has no class for', () => {
    const d = decide(imageOf('chest', 0.9), withoutHand, 1, 0.3, ['hand']);
    expect(d).to.include({ region: 'chest', evidence: 'image+header', imageRegion: 'chest' });
    expect(d.scores.hand).to.be.greaterThan(0);
  });

  it('a header naming several regions lifts them all; the threshold applies to the fused confidence', () => {
    const d = decide(logitsOf([0.25, 0.25, 0.25, 0.25]), classes, 1, 0.5, ['knee', 'shoulder']);
    expect(d.scores.knee).to.be.closeTo(d.scores.shoulder, 1e-12);
    expect(d.region).to.equal('unknown');
    const sum = Object.values(d.scores).reduce((a, b) => a + b, 0);
    expect(sum).to.be.closeTo(1, 1e-12);
  });
});
