import { isStandardStorageSopClass, VERIFICATION_SOP_CLASS } from '../dicom/uids';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, isSupportedTransferSyntax } from '../dicom/transfer-syntax';

/** Who may associate and which presentation contexts are accepted: pure decisions, no I/O. */

export interface PolicyOptions {
  aeTitle: string;
  allowedCallingAeTitles: readonly string[];
  maxAssociations: number;
  acceptNonStandardSopClasses: boolean;
}

/** A-ASSOCIATE-RJ parameters (PS3.8 §9.3.4). */
export interface Rejection {
  result: 1 | 2; // 1 permanent, 2 transient
  source: 1 | 2 | 3; // service user, provider (ACSE), provider (presentation)
  reason: number;
  why: string;
}

export type ContextDecision = { accept: true; transferSyntaxUid: string } | { accept: false; result: 3 | 4; why: string }; // 3 abstract syntax, 4 transfer syntaxes not supported

export function checkAssociation(
  opts: PolicyOptions,
  calledAeTitle: string,
  callingAeTitle: string,
  activeAssociations: number,
  peerAllowed = true,
): Rejection | undefined {
  if (!peerAllowed) {
    return { result: 1, source: 1, reason: 1, why: 'peer address is not in listen.allowedPeers' };
  }
  if (calledAeTitle.trim() !== opts.aeTitle) {
    return { result: 1, source: 1, reason: 7, why: `called AE title "${calledAeTitle.trim()}" is not "${opts.aeTitle}"` };
  }
  const calling = callingAeTitle.trim();
  if (opts.allowedCallingAeTitles.length > 0 && !opts.allowedCallingAeTitles.includes(calling)) {
    return { result: 1, source: 1, reason: 3, why: `calling AE title "${calling}" is not in listen.allowedCallingAeTitles` };
  }
  if (activeAssociations >= opts.maxAssociations) {
    return { result: 2, source: 3, reason: 2, why: `already ${activeAssociations} associations (listen.maxAssociations)` };
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
    return ts ? { accept: true, transferSyntaxUid: ts } : { accept: false, result: 4, why: 'verification needs an uncompressed little-endian syntax' };
  }
  const storage = isStandardStorageSopClass(abstractSyntaxUid) || (opts.acceptNonStandardSopClasses && !abstractSyntaxUid.startsWith('1.2.840.10008.'));
  if (!storage) return { accept: false, result: 3, why: `abstract syntax ${abstractSyntaxUid} is not a storage SOP class` };
  const ts = proposed.find(isSupportedTransferSyntax);
  return ts
    ? { accept: true, transferSyntaxUid: ts }
    : { accept: false, result: 4, why: `none of the proposed transfer syntaxes is supported (${proposed.join(', ')})` };
}
