import type { DatasetEdits } from './dataset-edits';

/** Where an object came from; kept with the object in the spool (file meta private information). */
export interface ReceiveContext {
  callingAeTitle: string;
  calledAeTitle: string;
  remoteAddress: string;
  receivedAt: string;
}

/** One received object as the pipeline stages see it. */
export interface SpooledObject {
  /** bodyroute's own id: names every file of this object, never derived from its UIDs. */
  id: string;
  /** The Part-10 file as received (file meta + dataset bytes exactly as sent). */
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  modality?: string;
  origin: ReceiveContext;
  /** Offset of the dataset in `path`, i.e. the size of the file meta header. */
  datasetOffset: number;
  sizeBytes: number;
  /** Top-level string attributes read at receive time, by tag. */
  attributes: Map<number, string>;
  /** Top-level elements before Pixel Data as received (a copy), where known: what tagging reads. */
  header?: Buffer;
  /**
   * bodyroute's changes to the dataset (tagging), applied as the object is sent: the file keeps the
   * bytes as received; the parts of the edited dataset are made durable in the delivery journal.
   */
  edits?: DatasetEdits;
  /** A tagged copy (inbox/<id>.tagged.dcm until promoted), for deflated datasets, which cannot be edited in parts. */
  tagged?: { path: string; sizeBytes: number; datasetOffset: number };
}
