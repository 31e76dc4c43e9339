import { expect } from 'chai';
import { slicePosition } from '../../../src/dicom/geometry';
import { labelSeries } from '../../../src/tag/series-label';

const scores = (region: string, p = 0.9) => ({ head: 0, neck: 0, chest: 0, abdomen: 0, pelvis: 0, [region]: p });

describe('tag/series-label', () => {
  it('computes the position along the slice normal', () => {
    expect(slicePosition('-250\\-250\\-120.5', '1\\0\\0\\0\\1\\0')).to.equal(-120.5);
    expect(slicePosition('10\\20\\30', '0\\1\\0\\0\\0\\-1')).to.equal(-10); // sagittal: normal along -x
    expect(slicePosition(undefined, '1\\0\\0\\0\\1\\0')).to.equal(undefined);
  });

  it('outvotes an isolated misclassified slice using its neighbours along the patient axis', () => {
    const regions = ['chest', 'chest', 'chest', 'abdomen', 'chest', 'chest', 'chest'];
    const images = regions.map((r, i) => ({ position: 100 - i * 5, scores: scores(r) }));
    const label = labelSeries(images);
    expect(label?.regions).to.deep.equal(['chest']);
    expect(label?.term).to.equal('CHEST');
    expect(label?.perImage[3]).to.equal('chest');
  });

  it('orders slices by position, not by arrival, and lists regions head to foot with a composite term', () => {
    const ordered = [...Array(10).fill('chest'), ...Array(10).fill('abdomen')];
    // arrive shuffled, foot first
    const images = ordered.map((r, i) => ({ position: 200 - i * 5, scores: scores(r) })).reverse();
    const label = labelSeries(images);
    expect(label?.regions).to.deep.equal(['chest', 'abdomen']);
    expect(label?.term).to.equal('CHESTABDOMEN');
  });

  it('falls back to instance numbers without geometry, and ignores unclassified images', () => {
    const images = [
      { instanceNumber: 1, scores: scores('head') },
      { instanceNumber: 2, scores: scores('head') },
      { instanceNumber: 3 },
      { instanceNumber: 4, scores: scores('neck') },
      { instanceNumber: 5, scores: scores('neck') },
      { instanceNumber: 6, scores: scores('neck') },
    ];
    const label = labelSeries(images);
    expect(label?.regions).to.deep.equal(['head', 'neck']);
    expect(label?.term).to.equal('HEADNECK');
    expect(label?.perImage[2]).to.equal(undefined);
  });

  it('counts a region only some images were scored for (a header naming a region the model lacks)', () => {
    // the first slice (in order) has no "hand" score: the hand scores of the others must still count
    const images = [
      { position: 100, scores: scores('forearm', 0.6) },
      ...Array.from({ length: 8 }, (_, i) => ({ position: 99 - i, scores: { ...scores('forearm', 0.3), hand: 0.7 } })),
    ];
    expect(labelSeries(images)?.regions).to.deep.equal(['hand']);
  });

  it('has no label for a series without classified images', () => {
    expect(labelSeries([{ position: 1 }, { position: 2 }])).to.equal(undefined);
  });
});
