/** Upper-layer constants (PS3.8 section 9.3) by name: PDU and item types, reject and abort codes. */

/** PDU types. */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PData: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** Item types inside A-ASSOCIATE PDUs. */
export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaxLength: 0x51,
  ImplementationClassUid: 0x52,
  ImplementationVersionName: 0x55,
} as const;

/** A-ASSOCIATE-RJ result. */
export const RejectResult = { Permanent: 1, Transient: 2 } as const;

/** A-ASSOCIATE-RJ source. */
export const RejectSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;

/** A-ASSOCIATE-RJ reasons; their meaning depends on the source. */
export const RejectReason = {
  /** source: service user */
  NoReasonGiven: 1,
  CallingAeTitleNotRecognized: 3,
  CalledAeTitleNotRecognized: 7,
  /** source: service provider (presentation) */
  LocalLimitExceeded: 2,
} as const;

/** A-ABORT source. */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;

/** A-ABORT reasons (service provider). */
export const AbortReason = { NotSpecified: 0, UnexpectedPdu: 2, InvalidPduParameterValue: 6 } as const;

/** Presentation context results in A-ASSOCIATE-AC. */
export const ContextResultCode = { Acceptance: 0, UserRejection: 1, NoReason: 2, AbstractSyntaxNotSupported: 3, TransferSyntaxesNotSupported: 4 } as const;
