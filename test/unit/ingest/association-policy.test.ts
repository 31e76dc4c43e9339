import { expect } from 'chai';
import { checkAssociation, decideContext, PolicyOptions } from '../../../src/ingest/association-policy';

const policy: PolicyOptions = { aeTitles: ['BODYROUTE'], allowedCallingAeTitles: [], maxAssociations: 2, acceptNonStandardSopClasses: false };
const CT = '1.2.840.10008.5.1.4.1.1.2';

describe('ingest/association-policy', () => {
  it('accepts any calling AE when the allow-list is empty', () => {
    expect(checkAssociation(policy, 'BODYROUTE', 'ANY', 0)).to.equal(undefined);
  });

  it('rejects with the PS3.8 reasons: called AE (7), calling AE (3), local limit (transient, 2)', () => {
    expect(checkAssociation(policy, 'OTHER', 'CT01', 0)).to.include({ result: 1, source: 1, reason: 7 });
    expect(checkAssociation({ ...policy, allowedCallingAeTitles: ['CT01'] }, 'BODYROUTE', 'MR09', 0)).to.include({ result: 1, source: 1, reason: 3 });
    expect(checkAssociation(policy, 'BODYROUTE', 'CT01', 2)).to.include({ result: 2, source: 3, reason: 2 });
  });

  it('answers to every title of listen.aeTitle and listen.aeTitles on one port, and names them when it rejects', () => {
    const two = { ...policy, aeTitles: ['BODYROUTE', 'NEURO'] };
    expect(checkAssociation(two, 'NEURO', 'CT01', 0)).to.equal(undefined);
    expect(checkAssociation(two, 'BODYROUTE ', 'CT01', 0)).to.equal(undefined);
    expect(checkAssociation(two, 'BODY', 'CT01', 0)).to.include({ reason: 7, why: 'called AE title "BODY" is not "BODYROUTE" or "NEURO"' });
  });

  it('keeps the SCU first supported syntax for storage, so objects stay as sent', () => {
    expect(decideContext(policy, CT, ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.1'])).to.deep.equal({
      accept: true,
      transferSyntaxUid: '1.2.840.10008.1.2.4.90',
    });
    expect(decideContext(policy, CT, ['1.2.3.4.5', '1.2.840.10008.1.2'])).to.deep.equal({ accept: true, transferSyntaxUid: '1.2.840.10008.1.2' });
  });

  it('accepts every standard storage class, not only CT and MR', () => {
    for (const sop of ['1.2.840.10008.5.1.4.1.1.88.33', '1.2.840.10008.5.1.4.1.1.481.3', '1.2.840.10008.5.1.4.1.1.104.1', '1.2.840.10008.5.1.4.1.1.7']) {
      expect(decideContext(policy, sop, ['1.2.840.10008.1.2.1']).accept, sop).to.equal(true);
    }
  });

  it('rejects query/retrieve and unknown classes (3) and unsupported syntaxes (4)', () => {
    expect(decideContext(policy, '1.2.840.10008.5.1.4.1.2.2.1', ['1.2.840.10008.1.2'])).to.include({ accept: false, result: 3 });
    expect(decideContext(policy, '1.3.12.2.1107.5.9.1', ['1.2.840.10008.1.2'])).to.include({ accept: false, result: 3 });
    expect(decideContext(policy, CT, ['1.2.3.4'])).to.include({ accept: false, result: 4 });
  });

  it('accepts vendor-private storage classes only when configured', () => {
    expect(decideContext({ ...policy, acceptNonStandardSopClasses: true }, '1.3.12.2.1107.5.9.1', ['1.2.840.10008.1.2']).accept).to.equal(true);
  });

  it('accepts verification with an uncompressed syntax', () => {
    expect(decideContext(policy, '1.2.840.10008.1.1', ['1.2.840.10008.1.2'])).to.deep.equal({ accept: true, transferSyntaxUid: '1.2.840.10008.1.2' });
  });
});
