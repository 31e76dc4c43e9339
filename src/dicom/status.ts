/** DIMSE statuses bodyroute answers with or reads (PS3.4 B.2.3, PS3.7 C), by name. */
export const DimseStatus = {
  Success: 0x0000,
  /** Warning: coercion of data elements. */
  CoercionOfDataElements: 0xb000,
  /** Refused: out of resources (A7xx). */
  OutOfResources: 0xa700,
  /** Error: dataset does not match SOP class (A9xx). */
  DatasetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand (Cxxx). */
  CannotUnderstand: 0xc000,
  SopClassNotSupported: 0x0122,
  NotAuthorized: 0x0124,
  UnrecognizedOperation: 0x0211,
  InvalidSopInstance: 0x0117,
} as const;

/** What a C-STORE-RSP status means for a router (PS3.4 B.2.3, PS3.7 C). */
export type StatusClass = 'success' | 'warning' | 'retry' | 'fatal';

export function classifyStoreStatus(status: number): StatusClass {
  if (status === 0x0000) return 'success';
  if (status === 0x0001 || (status & 0xf000) === 0xb000) return 'warning';
  if ((status & 0xff00) === 0xa700) return 'retry'; // out of resources
  if ((status & 0xff00) === 0xa900 || (status & 0xf000) === 0xc000) return 'fatal'; // dataset/SOP class mismatch, cannot understand
  if (
    status === DimseStatus.SopClassNotSupported ||
    status === DimseStatus.NotAuthorized ||
    status === DimseStatus.UnrecognizedOperation ||
    status === DimseStatus.InvalidSopInstance
  )
    return 'fatal';
  return 'retry';
}

export function formatStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}
