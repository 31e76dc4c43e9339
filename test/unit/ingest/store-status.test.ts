import { expect } from 'chai';
import { DimseStatus } from '../../../src/dicom/status';
import { BodyrouteError } from '../../../src/errors';
import { storeFailureStatus } from '../../../src/ingest/store-status';

describe('ingest/store-status: the error catalogue mapped to C-STORE statuses at the protocol edge', () => {
  it('answers Out of Resources (A700) for what may pass: a full or failing spool, an object over the size limit', () => {
    for (const code of ['SPOOL_FULL', 'SPOOL_IO', 'OBJECT_TOO_LARGE'] as const) {
      expect(storeFailureStatus(new BodyrouteError(code, 'x', true)), code).to.equal(DimseStatus.OutOfResources);
    }
  });

  it('answers Cannot Understand (C000) for an object that will never be kept: malformed, truncated, invalid UIDs', () => {
    for (const code of ['OBJECT_MALFORMED', 'OBJECT_TRUNCATED', 'UID_INVALID'] as const) {
      expect(storeFailureStatus(new BodyrouteError(code, 'x', false)), code).to.equal(DimseStatus.CannotUnderstand);
    }
  });

  it('answers Out of Resources for anything else, an unexpected exception included', () => {
    expect(storeFailureStatus(new Error('boom'))).to.equal(DimseStatus.OutOfResources);
    expect(storeFailureStatus(new BodyrouteError('DEST_IO', 'x', true))).to.equal(DimseStatus.OutOfResources);
  });
});
