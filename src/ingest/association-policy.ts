import { isStandardStorageSopClass, VERIFICATION_SOP_CLASS } from '../dicom/uids';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, isSupportedTransferSyntax } from '../dicom/transfer-syntax';
import { ContextResultCode, RejectReason, RejectResult, RejectSource } from '../dicom/ul/constants';

/** Who may associate and which presentation contexts are accepted: pure decisions, no I/O. */

export interface PolicyOptions {
  /** The called AE titles bodyroute answers to (listen.aeTitle and listen.aeTitles). */
  aeTitles: readonly string[];
  allowedCallingAeTitles: readonly string[];
  maxAssociations: number;
  acceptNonStandardSopClasses: boolean;
}

/** A-ASSOCIATE-RJ parameters (PS3.8 §9.3.4). */
export interface Rejection {
  result: (typeof RejectResult)[keyof typeof RejectResult];
  source: (typeof RejectSource)[keyof typeof RejectSource];
  reason: number;
  why: string;
}

export type ContextDecision =
  | { accept: true; transferSyntaxUid: string }
  | { accept: false; result: typeof ContextResultCode.AbstractSyntaxNotSupported | typeof ContextResultCode.TransferSyntaxesNotSupported; why: string };

const permanent = { result: RejectResult.Permanent, source: RejectSource.ServiceUser } as const;

export function checkAssociation(
  opts: PolicyOptions,
  calledAeTitle: string,
  callingAeTitle: string,
  activeAssociations: number,
  peerAllowed = true,
): Rejection | undefined {
  if (!peerAllowed) {
    return { ...permanent, reason: RejectReason.NoReasonGiven, why: 'peer address is not in listen.allowedPeers' };
  }
  const called = calledAeTitle.trim();
  if (!opts.aeTitles.includes(called)) {
    const expected = opts.aeTitles.map((t) => `"${t}"`).join(' or ');
    return { ...permanent, reason: RejectReason.CalledAeTitleNotRecognized, why: `called AE title "${called}" is not ${expected}` };
  }
  const calling = callingAeTitle.trim();
  if (opts.allowedCallingAeTitles.length > 0 && !opts.allowedCallingAeTitles.includes(calling)) {
    return { ...permanent, reason: RejectReason.CallingAeTitleNotRecognized, why: `calling AE title "${calling}" is not in listen.allowedCallingAeTitles` };
  }
  if (activeAssociations >= opts.maxAssociations) {
    return {
      result: RejectResult.Transient,
      source: RejectSource.ServiceProviderPresentation,
      reason: RejectReason.LocalLimitExceeded,
      why: `already ${activeAssociations} associations (listen.maxAssociations)`,
    };
  }
  return undefined;
}

/**
 * Storage contexts keep the SCU's first supported choice so the object is stored and
 * forwarded in the syntax it was sent in; verification needs no dataset, any
 * uncompressed syntax does.
 */
export function decideContext(opts: PolicyOptions, abstractSyntaxUid: string, proposed: readonly string[]): ContextDecision {
  if (abstractSyntaxUid === VERIFICATION_SOP_CLASS) {
    const ts = proposed.find((t) => t === IMPLICIT_VR_LITTLE_ENDIAN || t === EXPLICIT_VR_LITTLE_ENDIAN);
    return ts
      ? { accept: true, transferSyntaxUid: ts }
      : { accept: false, result: ContextResultCode.TransferSyntaxesNotSupported, why: 'verification needs an uncompressed little-endian syntax' };
  }
  const storage = isStandardStorageSopClass(abstractSyntaxUid) || (opts.acceptNonStandardSopClasses && !abstractSyntaxUid.startsWith('1.2.840.10008.'));
  if (!storage)
    return { accept: false, result: ContextResultCode.AbstractSyntaxNotSupported, why: `abstract syntax ${abstractSyntaxUid} is not a storage SOP class` };
  const ts = proposed.find(isSupportedTransferSyntax);
  return ts
    ? { accept: true, transferSyntaxUid: ts }
    : {
        accept: false,
        result: ContextResultCode.TransferSyntaxesNotSupported,
        why: `none of the proposed transfer syntaxes is supported (${proposed.join(', ')})`,
      };
}
