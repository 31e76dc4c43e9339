import { SpooledObject } from '../spool/spooled-object';

/** What a destination needs to deliver one object. */
export type DeliveryItem = Pick<
  SpooledObject,
  'id' | 'path' | 'datasetOffset' | 'sizeBytes' | 'edits' | 'sopClassUid' | 'sopInstanceUid' | 'transferSyntaxUid' | 'studyInstanceUid' | 'seriesInstanceUid'
>;

/** Only what delivery needs: a queued object must not keep its header, attributes or scores in memory. */
export function deliveryItem(obj: DeliveryItem): DeliveryItem {
  const { id, path, datasetOffset, sizeBytes, edits, sopClassUid, sopInstanceUid, transferSyntaxUid, studyInstanceUid, seriesInstanceUid } = obj;
  return { id, path, datasetOffset, sizeBytes, edits, sopClassUid, sopInstanceUid, transferSyntaxUid, studyInstanceUid, seriesInstanceUid };
}
