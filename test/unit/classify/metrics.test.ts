import { expect } from 'chai';
import { decide } from '../../../src/classify/classification';
import { bootstrapCi, evaluate, formatReport } from '../../../src/classify/metrics';

describe('classify/metrics', () => {
  const preds = [
    { truth: 'head', predicted: 'head', modality: 'CT' },
    { truth: 'head', predicted: 'head', modality: 'MR' },
    { truth: 'chest', predicted: 'head', modality: 'CT' },
    { truth: 'chest', predicted: 'chest', modality: 'CT' },
    { truth: 'hand', predicted: 'unknown', modality: 'MR' },
  ];

  it('computes accuracy, per-region precision/recall/F1, per-modality accuracy and the confusion matrix', () => {
    const r = evaluate(preds, ['head', 'chest']);
    expect(r.n).to.equal(5);
    expect(r.accuracy).to.equal(3 / 5);
    expect(r.perRegion.head).to.deep.equal({ precision: 2 / 3, recall: 1, f1: 0.8, support: 2 });
    expect(r.perRegion.chest).to.include({ precision: 1, recall: 0.5, support: 2 });
    expect(r.perModality.CT).to.include({ n: 3, accuracy: 2 / 3 });
    expect(r.confusion.chest).to.deep.equal({ chest: 1, head: 1, unknown: 0 });
    expect(r.covered).to.include({ n: 4, accuracy: 3 / 4 });
    expect(r.unknownRate).to.equal(1 / 5);
    expect(formatReport(r, 'm 1')).to.match(/confusion \(rows: truth, columns: predicted\)/);
  });

  it('reports top-1 without abstention, coverage and the accuracy of the covered images', () => {
    const r = evaluate(
      [
        { truth: 'knee', predicted: 'knee', top: 'knee', modality: 'MR' },
        { truth: 'knee', predicted: 'unknown', top: 'knee', modality: 'MR' },
        { truth: 'head', predicted: 'unknown', top: 'chest', modality: 'CT' },
        { truth: 'head', predicted: 'chest', top: 'chest', modality: 'CT' },
        { truth: 'head', predicted: 'unclassified', top: 'unclassified', modality: 'CT' },
      ],
      ['head', 'chest', 'knee'],
    );
    expect(r.accuracy).to.equal(1 / 5);
    expect(r.top1).to.equal(2 / 5);
    expect(r.coverage).to.equal(2 / 5);
    expect(r.coveredAccuracy).to.equal(1 / 2);
  });

  it('gives a reproducible bootstrap interval around the accuracy', () => {
    const outcomes = Array.from({ length: 400 }, (_, i) => i % 10 !== 0);
    const [lo, hi] = bootstrapCi(outcomes);
    expect(lo).to.be.below(0.9).and.above(0.85);
    expect(hi).to.be.above(0.9).and.below(0.95);
    expect(bootstrapCi(outcomes)).to.deep.equal([lo, hi]);
  });

  it('answers unknown below the calibrated threshold, and applies the temperature', () => {
    expect(decide([2, 0, 0], ['head', 'neck', 'chest'], 1, 0.5).region).to.equal('head');
    expect(decide([2, 0, 0], ['head', 'neck', 'chest'], 1, 0.9).region).to.equal('unknown');
    const hot = decide([2, 0, 0], ['head', 'neck', 'chest'], 10, 0);
    expect(hot.confidence).to.be.below(decide([2, 0, 0], ['head', 'neck', 'chest'], 1, 0).confidence);
    expect(Object.values(hot.scores).reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-12);
  });
});
