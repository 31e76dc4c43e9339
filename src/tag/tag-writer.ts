import { promises as fsp } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { readFileMeta } from '../dicom/part10';
import { findTransferSyntax } from '../dicom/transfer-syntax';
import { SpooledObject } from '../spool/spooled-object';
import { RegionLabel, tagDataset, TagOptions } from './tagger';

/**
 * Writes the tagged copy of a spooled object next to it (inbox/<id>.tagged.dcm): the same file
 * meta bytes, the dataset with bodyroute's elements spliced in, fsync'd. The original stays
 * until the copy is promoted, so a crash only means tagging again.
 */
export class TagWriter {
  constructor(
    private readonly opts: TagOptions,
    private readonly taggedPathFor: (id: string) => string,
  ) {}

  async write(obj: SpooledObject, label: RegionLabel): Promise<SpooledObject> {
    const file = await fsp.readFile(obj.path);
    const meta = readFileMeta(file);
    const ts = findTransferSyntax(meta.transferSyntaxUid);
    if (!ts) throw new Error(`unknown transfer syntax ${meta.transferSyntaxUid}`);
    const enc = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
    const stored = file.subarray(meta.datasetOffset);
    // a deflated dataset is inflated, tagged and deflated again: its compressed bytes change, its content only by our elements
    const dataset = ts.deflated ? inflateRawSync(stored) : stored;
    const tagged = tagDataset(dataset, enc, label, this.opts);
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
