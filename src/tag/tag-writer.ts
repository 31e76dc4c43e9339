import { promises as fsp } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BodyrouteError, errorMessage } from '../errors';
import { headerOf, summarizeDataset } from '../dicom/header';
import { readFileMeta } from '../dicom/part10';
import { planSplice } from '../dicom/splice';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { editsFromParts } from '../spool/dataset-edits';
import { SpooledObject } from '../spool/spooled-object';
import { RegionLabel, tagDataset, tagEdits, TagOptions } from './tagger';

/** Bytes read from a spooled file to find its header when it is not in memory (after a restart). */
const HEADER_READ_BYTES = 1024 * 1024;

/**
 * Records bodyroute's elements for a spooled object. Normally as edits: the parts of the tagged
 * dataset, planned from the header alone and applied as the object is sent, so the received file is
 * neither read back nor rewritten. They stay in memory until routing journals them with the object's
 * deliveries (one fsync for both, no file of their own). A deflated dataset cannot be edited in parts:
 * it is inflated, tagged, deflated again and written as a tagged copy (inbox/<id>.tagged.dcm, fsync'd).
 * Either way the original stays in the inbox until promoted, so a crash before that only means tagging again.
 */
export class TagWriter {
  constructor(
    private readonly opts: TagOptions,
    private readonly taggedPathFor: (id: string) => string,
  ) {}

  async write(obj: SpooledObject, label: RegionLabel): Promise<SpooledObject> {
    const ts = findTransferSyntax(obj.transferSyntaxUid);
    if (!ts) throw new Error(`unknown transfer syntax ${obj.transferSyntaxUid}`);
    if (ts.deflated) return this.writeCopy(obj, label);
    const enc = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
    const header = obj.header ?? (await readHeader(obj));
    const datasetBytes = obj.sizeBytes - obj.datasetOffset;
    const edits = impossibleIfThrows(() => editsFromParts(planSplice(header, enc, tagEdits(header, enc, label, this.opts), datasetBytes)));
    return { ...obj, edits };
  }

  private async writeCopy(obj: SpooledObject, label: RegionLabel): Promise<SpooledObject> {
    const file = await fsp.readFile(obj.path);
    const meta = readFileMeta(file);
    const ts = findTransferSyntax(meta.transferSyntaxUid);
    if (!ts) throw new Error(`unknown transfer syntax ${meta.transferSyntaxUid}`);
    const enc = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
    const stored = file.subarray(meta.datasetOffset);
    // a deflated dataset is inflated, tagged and deflated again: its compressed bytes change, its content only by our elements
    const dataset = ts.deflated ? inflateRawSync(stored) : stored;
    const tagged = impossibleIfThrows(() => tagDataset(dataset, enc, label, this.opts));
    const body = ts.deflated ? deflateRawSync(tagged) : tagged;
    const path = this.taggedPathFor(obj.id);
    const handle = await fsp.open(path, 'w', 0o600);
    try {
      await handle.writev([file.subarray(0, meta.datasetOffset), body]);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    return { ...obj, tagged: { path, sizeBytes: meta.datasetOffset + body.length, datasetOffset: meta.datasetOffset } };
  }
}

/** The top-level elements before Pixel Data, read from the file (objects recovered after a restart). */
async function readHeader(obj: SpooledObject): Promise<Buffer> {
  const handle = await fsp.open(obj.path, 'r');
  try {
    let size = Math.min(obj.sizeBytes - obj.datasetOffset, HEADER_READ_BYTES);
    for (;;) {
      const bytes = Buffer.alloc(size);
      await handle.read(bytes, 0, size, obj.datasetOffset);
      const header = headerOf(bytes, summarizeDataset(bytes, obj.transferSyntaxUid, []), obj.sizeBytes - obj.datasetOffset);
      if (header) return header;
      if (size === obj.sizeBytes - obj.datasetOffset) throw new Error('cannot find the end of the header');
      size = Math.min(obj.sizeBytes - obj.datasetOffset, size * 4);
    }
  } finally {
    await handle.close();
  }
}

/** Planning the edits reads only the object: when it fails, no retry can succeed (I/O errors stay retryable). */
function impossibleIfThrows<T>(plan: () => T): T {
  try {
    return plan();
  } catch (err) {
    throw new BodyrouteError('TAG_IMPOSSIBLE', `cannot write the label: ${errorMessage(err)}`, false);
  }
}
