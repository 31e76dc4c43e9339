import { expect } from 'chai';
import { SeriesHolder } from '../../../src/pipeline/series-holder';
import { SpooledObject } from '../../../src/spool/spooled-object';

const obj = (id: string, series?: string): SpooledObject => ({
  id,
  path: `/x/${id}`,
  sopClassUid: '1.2',
  sopInstanceUid: `1.2.${id}`,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  studyInstanceUid: '1.2.3',
  seriesInstanceUid: series,
  origin: { callingAeTitle: 'A', calledAeTitle: 'B', remoteAddress: '', receivedAt: '' },
  datasetOffset: 0,
  sizeBytes: 0,
  attributes: new Map(),
});

describe('pipeline/series-holder', () => {
  it('hands a series on once no image arrived for the stable time, each image once', async () => {
    const out: string[][] = [];
    const h = new SeriesHolder(60, (objs) => out.push(objs.map((o) => o.id)));
    h.add(obj('a', 's1'));
    await new Promise((r) => setTimeout(r, 30));
    h.add(obj('b', 's1'));
    h.add(obj('b', 's1'));
    h.add(obj('x', 's2'));
    await new Promise((r) => setTimeout(r, 40));
    expect(out).to.deep.equal([]); // s1 was extended by b
    await new Promise((r) => setTimeout(r, 60));
    expect(out.sort()).to.deep.equal([['a', 'b'], ['x']]);
    expect(h.heldSeries).to.equal(0);
  });

  it('stop() drops the timers without handing anything on', async () => {
    const out: string[][] = [];
    const h = new SeriesHolder(20, (objs) => out.push(objs.map((o) => o.id)));
    h.add(obj('a', 's1'));
    h.stop();
    await new Promise((r) => setTimeout(r, 40));
    expect(out).to.deep.equal([]);
  });
});
