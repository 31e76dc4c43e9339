/** Tags as 32-bit numbers (group << 16 | element) and their "(gggg,eeee)" spelling. */

export function tag(group: number, element: number): number {
  return ((group << 16) | element) >>> 0;
}

/** Accepts "(0008,1030)", "0008,1030" or "00081030". */
export function parseTag(text: string): number {
  const m = /^\(?([0-9a-fA-F]{4}),?([0-9a-fA-F]{4})\)?$/.exec(text.trim());
  if (!m) throw new Error(`not a DICOM tag: "${text}" (expected "(gggg,eeee)")`);
  return tag(parseInt(m[1], 16), parseInt(m[2], 16));
}

export const Tags = {
  FileMetaInformationGroupLength: tag(0x0002, 0x0000),
  MediaStorageSopClassUid: tag(0x0002, 0x0002),
  MediaStorageSopInstanceUid: tag(0x0002, 0x0003),
  TransferSyntaxUid: tag(0x0002, 0x0010),
  ImplementationClassUid: tag(0x0002, 0x0012),
  ImplementationVersionName: tag(0x0002, 0x0013),
  SourceApplicationEntityTitle: tag(0x0002, 0x0016),
  SpecificCharacterSet: tag(0x0008, 0x0005),
  ImageType: tag(0x0008, 0x0008),
  SopClassUid: tag(0x0008, 0x0016),
  SopInstanceUid: tag(0x0008, 0x0018),
  Modality: tag(0x0008, 0x0060),
  StudyDescription: tag(0x0008, 0x1030),
  SeriesDescription: tag(0x0008, 0x103e),
  BodyPartExamined: tag(0x0018, 0x0015),
  ProtocolName: tag(0x0018, 0x1030),
  StudyInstanceUid: tag(0x0020, 0x000d),
  SeriesInstanceUid: tag(0x0020, 0x000e),
  InstanceNumber: tag(0x0020, 0x0013),
  ImagePositionPatient: tag(0x0020, 0x0032),
  ImageOrientationPatient: tag(0x0020, 0x0037),
  SamplesPerPixel: tag(0x0028, 0x0002),
  PhotometricInterpretation: tag(0x0028, 0x0004),
  PlanarConfiguration: tag(0x0028, 0x0006),
  NumberOfFrames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  PixelSpacing: tag(0x0028, 0x0030),
  BitsAllocated: tag(0x0028, 0x0100),
  BitsStored: tag(0x0028, 0x0101),
  PixelRepresentation: tag(0x0028, 0x0103),
  PixelPaddingValue: tag(0x0028, 0x0120),
  PixelPaddingRangeLimit: tag(0x0028, 0x0121),
  RescaleIntercept: tag(0x0028, 0x1052),
  RescaleSlope: tag(0x0028, 0x1053),
  PixelValueTransformationSequence: tag(0x0028, 0x9145),
  IconImageSequence: tag(0x0088, 0x0200),
  SharedFunctionalGroupsSequence: tag(0x5200, 0x9229),
  PerFrameFunctionalGroupsSequence: tag(0x5200, 0x9230),
  PixelData: tag(0x7fe0, 0x0010),
  Item: tag(0xfffe, 0xe000),
  ItemDelimitation: tag(0xfffe, 0xe00d),
  SequenceDelimitation: tag(0xfffe, 0xe0dd),
} as const;
