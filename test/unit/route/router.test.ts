import { expect } from 'chai';
import { parseConfig } from '../../../src/config/load';
import { Router, RoutingFacts } from '../../../src/route/router';

const facts = (over: Partial<RoutingFacts> = {}): RoutingFacts => ({
  regions: ['chest'],
  modality: 'CT',
  callingAeTitle: 'CT01',
  calledAeTitle: 'BODYROUTE',
  tags: new Map(),
  ...over,
});

function router(routes: unknown[]): Router {
  const dests = ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'folder', path: `/x/${name}` }));
  return new Router(parseConfig({ destinations: dests, routes }, '/').routes);
}

describe('route/router', () => {
  it('stops at the first matching rule', () => {
    expect(router([{ to: ['a', 'b'] }, { to: ['c'] }]).route(facts())).to.deep.equal(['a', 'b']);
  });

  it('keeps matching after a rule with continue, without duplicates', () => {
    expect(router([{ to: ['a'], continue: true }, { to: ['a', 'c'] }, { to: ['d'] }]).route(facts())).to.deep.equal(['a', 'c']);
  });

  it('routes by region, with a default rule last', () => {
    const r = router([{ when: { region: 'chest' }, to: ['a'] }, { when: { region: ['head', 'neck'] }, to: ['b'] }, { to: ['c'] }]);
    expect(r.route(facts())).to.deep.equal(['a']);
    expect(r.route(facts({ regions: ['neck'] }))).to.deep.equal(['b']);
    expect(r.route(facts({ regions: ['knee'] }))).to.deep.equal(['c']);
  });

  it('matches any of a series’ regions', () => {
    expect(router([{ when: { region: 'abdomen' }, to: ['a'] }, { to: ['c'] }]).route(facts({ regions: ['chest', 'abdomen'] }))).to.deep.equal(['a']);
  });

  it('tells unknown (low confidence) from unclassified (not an image)', () => {
    const r = router([{ when: { region: 'unknown' }, to: ['a'] }, { when: { region: 'unclassified' }, to: ['b'] }, { to: ['c'] }]);
    expect(r.route(facts({ regions: ['unknown'] }))).to.deep.equal(['a']);
    expect(r.route(facts({ regions: ['unclassified'] }))).to.deep.equal(['b']);
  });

  it('combines modality, AE titles and tag patterns (all must hold)', () => {
    const r = router([{ when: { modality: 'mr', callingAeTitle: ['MR01', 'MR02'], tags: { '(0008,1030)': '^KNEE' } }, to: ['a'] }, { to: ['c'] }]);
    expect(r.route(facts({ modality: 'MR', callingAeTitle: 'MR02', tags: new Map([[0x00081030, 'KNEE LEFT']]) }))).to.deep.equal(['a']);
    expect(r.route(facts({ modality: 'MR', callingAeTitle: 'MR02', tags: new Map([[0x00081030, 'HIP']]) }))).to.deep.equal(['c']);
    expect(r.route(facts({ modality: 'CT', callingAeTitle: 'MR02', tags: new Map([[0x00081030, 'KNEE']]) }))).to.deep.equal(['c']);
    expect(r.referencedTags).to.deep.equal([0x00081030]);
  });

  it('rejects unknown regions and bad patterns at start-up, naming the key', () => {
    expect(() => router([{ when: { region: 'elbows' }, to: ['a'] }])).to.throw(/routes\[0\]\.when\.region/);
    expect(() => router([{ when: { tags: { '(0008,1030)': '([' } }, to: ['a'] }])).to.throw(
      /routes\[0\]\.when\.tags\.\(0008,1030\): invalid regular expression/,
    );
    expect(() => router([{ when: { tags: { '0008-1030': 'x' } }, to: ['a'] }])).to.throw(/not a DICOM tag/);
  });
});
