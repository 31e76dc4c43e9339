import { DimseStatus } from '../dicom/status';
import { BodyrouteError, ErrorCode } from '../errors';

/**
 * What bodyroute answers in a C-STORE-RSP when it cannot keep an object: the error catalogue
 * mapped to DIMSE at the protocol edge (docs/conformance.md). A700 says "try again later" (a full
 * or failing disk, an object over the size limit of this node); C000 says the object itself
 * cannot be understood and sending it again will not help.
 */
const STORE_STATUS: Partial<Record<ErrorCode, number>> = {
  SPOOL_FULL: DimseStatus.OutOfResources,
  SPOOL_IO: DimseStatus.OutOfResources,
  OBJECT_TOO_LARGE: DimseStatus.OutOfResources,
  OBJECT_MALFORMED: DimseStatus.CannotUnderstand,
  OBJECT_TRUNCATED: DimseStatus.CannotUnderstand,
  UID_INVALID: DimseStatus.CannotUnderstand,
};

/** The failure status for a C-STORE whose object was not kept; Out of Resources when in doubt. */
export function storeFailureStatus(err: unknown): number {
  return (err instanceof BodyrouteError ? STORE_STATUS[err.code] : undefined) ?? DimseStatus.OutOfResources;
}
