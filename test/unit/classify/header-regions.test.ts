import { expect } from 'chai';
import { headerEvidence, normalizeHeaderText, regionsInText } from '../../../src/classify/header-regions';

describe('classify/header-regions', () => {
  it('reads Body Part Examined terms of PS3.16 Annex L, composites included', () => {
    expect(headerEvidence({ bodyPartExamined: 'KNEE' })).to.deep.equal({ regions: ['knee'], source: 'bodyPartExamined', words: ['KNEE'] });
    expect(headerEvidence({ bodyPartExamined: 'CHESTABDPELVIS' })?.regions).to.deep.equal(['chest', 'abdomen', 'pelvis']);
    expect(headerEvidence({ bodyPartExamined: 'LEG' })?.regions).to.deep.equal(['lowerleg']);
    expect(headerEvidence({ bodyPartExamined: 'WRIST' })?.regions).to.deep.equal(['hand']);
  });

  it('reads protocol words and abbreviations in six languages', () => {
    const r = (text: string) => regionsInText(text).regions;
    expect(r('T2_TSE_SAG_LWS')).to.deep.equal(['lspine']);
    expect(r('HWS sag T2')).to.deep.equal(['cspine']);
    expect(r('BWS')).to.deep.equal(['tspine']);
    expect(r('IRM GENOU DROIT')).to.deep.equal(['knee']);
    expect(r('RM SPALLA SX')).to.deep.equal(['shoulder']);
    expect(r('CT Schädel nativ')).to.deep.equal(['head']);
    expect(r('TC TÓRAX')).to.deep.equal(['chest']);
    expect(r('MRI Rodilla')).to.deep.equal(['knee']);
    expect(r('MR knie links')).to.deep.equal(['knee']);
    expect(r('C-SPINE 3D')).to.deep.equal(['cspine']);
    expect(r('Rachis lombaire')).to.deep.equal(['lspine']);
    expect(r('CT CAP with contrast')).to.deep.equal(['chest', 'abdomen', 'pelvis']);
    expect(r('AX T1 POST GAD')).to.deep.equal([]);
  });

  it('takes the most specific element that names a region: body part, then series/protocol, then study', () => {
    expect(headerEvidence({ bodyPartExamined: 'XYZ', seriesDescription: 'sag PD knee', studyDescription: 'MR HIP' })).to.deep.equal({
      regions: ['knee'],
      source: 'seriesDescription',
      words: ['KNEE'],
    });
    expect(headerEvidence({ seriesDescription: 'localizer', protocolName: 'ep2d_diff', studyDescription: 'MRT Becken' })?.regions).to.deep.equal(['pelvis']);
    expect(headerEvidence({ seriesDescription: 'AX T2' })).to.equal(undefined);
    expect(headerEvidence({})).to.equal(undefined);
  });

  it('folds accents, ß and punctuation', () => {
    expect(normalizeHeaderText('Fuß/Sprunggelenk re.')).to.equal('FUSS SPRUNGGELENK RE');
    expect(normalizeHeaderText('Épaule_gauche')).to.equal('EPAULE GAUCHE');
  });
});
