import { expect } from 'chai';
import { Received } from '../../../src/pipeline/lifecycle';
import { SeriesHolder } from '../../../src/pipeline/series-holder';
import { FakeClock } from '../../helpers/fake-clock';

const item = (id: string, series?: string): Received => ({
  object: {
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
  },
});

describe('pipeline/series-holder', () => {
  it('hands a series on once no image arrived for the stable time, each image once', async () => {
    const clock = new FakeClock();
    const out: string[][] = [];
    const h = new SeriesHolder(60, (members) => out.push(members.map((m) => m.object.id)), clock);
    h.add(item('a', 's1'));
    await clock.advance(30);
    h.add(item('b', 's1'));
    h.add(item('b', 's1'));
    h.add(item('x', 's2'));
    expect(h.heldImages).to.equal(3);
    await clock.advance(40);
    expect(out).to.deep.equal([]); // s1 was extended by b
    await clock.advance(20);
    expect(out.sort()).to.deep.equal([['a', 'b'], ['x']]);
    expect(h.heldSeries).to.equal(0);
  });

  it('an object without a Series Instance UID is a series of its own', async () => {
    const clock = new FakeClock();
    const out: string[][] = [];
    const h = new SeriesHolder(10, (members) => out.push(members.map((m) => m.object.id)), clock);
    h.add(item('a'));
    h.add(item('b'));
    await clock.advance(10);
    expect(out.sort()).to.deep.equal([['a'], ['b']]);
  });

  it('stop() drops the timers without handing anything on', async () => {
    const clock = new FakeClock();
    const out: string[][] = [];
    const h = new SeriesHolder(20, (members) => out.push(members.map((m) => m.object.id)), clock);
    h.add(item('a', 's1'));
    h.stop();
    await clock.advance(40);
    expect(out).to.deep.equal([]);
  });
});
