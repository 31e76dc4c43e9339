/** What a C-STORE-RSP status means for a router (PS3.4 B.2.3, PS3.7 C). */
export type StatusClass = 'success' | 'warning' | 'retry' | 'fatal';

export function classifyStoreStatus(status: number): StatusClass {
  if (status === 0x0000) return 'success';
  if (status === 0x0001 || (status & 0xf000) === 0xb000) return 'warning';
  if ((status & 0xff00) === 0xa700) return 'retry'; // out of resources
  if ((status & 0xff00) === 0xa900 || (status & 0xf000) === 0xc000) return 'fatal'; // dataset/SOP class mismatch, cannot understand
  if (status === 0x0122 || status === 0x0124 || status === 0x0211 || status === 0x0117) return 'fatal'; // class not supported, not authorized, unrecognised op, invalid instance
  return 'retry';
}

export function formatStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}
