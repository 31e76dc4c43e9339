import { createServer, Server } from 'node:net';
import { constants, log as dimseLog, requests, responses, Scp } from 'dcmjs-dimse';
import { stopAfterSuite } from './suite-fixture';

type CStoreRequest = InstanceType<typeof requests.CStoreRequest>;
type CStoreResponse = InstanceType<typeof responses.CStoreResponse>;
type Association = Parameters<Scp['associationRequested']>[0];

/**
 * A DICOM destination that answers each C-STORE with the status a test chooses
 * (by SOP Instance UID), to exercise bodyroute's retry and dead-letter handling.
 */
export interface ScriptedScp {
  port: number;
  /** SOP Instance UID → times a C-STORE for it arrived. */
  calls: Map<string, number>;
  stored: string[];
  /** Most C-STOREs being answered at the same time (across associations). */
  maxInFlight(): number;
  stop(): Promise<void>;
}

/** `statusFor` returns the status to answer, or null to never answer (a destination that hangs). */
export async function startScriptedScp(
  statusFor: (sopInstanceUid: string, attempt: number) => number | null,
  behaviour: { rejectAssociations?: () => boolean; delayMs?: number } = {},
): Promise<ScriptedScp> {
  dimseLog.setLevel('silent');
  const calls = new Map<string, number>();
  const stored: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  class Destination extends Scp {
    override associationRequested(association: Association): void {
      if (behaviour.rejectAssociations?.()) {
        this.sendAssociationReject(1, 1, 7);
        return;
      }
      for (const { context } of association.getPresentationContexts()) {
        context.setResult(constants.PresentationContextResult.Accept, context.getTransferSyntaxUids()[0]);
      }
      this.sendAssociationAccept();
    }
    override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
      const uid = request.getAffectedSopInstanceUid();
      const attempt = (calls.get(uid) ?? 0) + 1;
      calls.set(uid, attempt);
      const status = statusFor(uid, attempt);
      if (status === null) return;
      if (status === 0) stored.push(uid);
      const response = responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const answer = () => {
        inFlight--;
        callback(response);
      };
      if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs);
      else answer();
    }
    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
  }
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    new Destination(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  stopAfterSuite(stop);
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    calls,
    stored,
    maxInFlight: () => maxInFlight,
    stop,
  };
}
