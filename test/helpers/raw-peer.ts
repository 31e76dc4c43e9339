import { expect } from 'chai';
import { connect, Socket } from 'node:net';
import { decodeAssociateAc, encodeAssociateRq, PduType } from '../../src/dicom/ul/pdu';
import { PduReader, WholePdu } from '../../src/dicom/ul/pdu-parser';
import { waitFor } from './tools';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** One PDV item (length, context, flags, data). */
export function pdv(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt32BE(data.length + 2, 0);
  head[4] = contextId;
  head[5] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  return Buffer.concat([head, data]);
}

/** A P-DATA-TF holding the given PDV items. */
export function pdata(...items: Buffer[]): Buffer {
  const body = Buffer.concat(items);
  const head = Buffer.alloc(6);
  head[0] = PduType.PData;
  head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

/** A raw conversation with bodyroute: PDUs in, PDUs out, no DICOM library in between. */
export class RawPeer {
  private readonly reader = new PduReader(16 * 1024 * 1024);
  private readonly received: WholePdu[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.received.push(...this.reader.push(d)));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  /** Connects without asking for an association (ARTIM tests). */
  static async connect(port: number): Promise<RawPeer> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    return new RawPeer(socket);
  }

  static async associate(port: number): Promise<RawPeer> {
    const peer = await RawPeer.connect(port);
    const socket = peer.socket;
    socket.write(
      encodeAssociateRq({
        callingAeTitle: 'RAWSCU',
        calledAeTitle: 'BODYROUTE',
        maxPduLength: 65536,
        contexts: [{ id: 1, abstractSyntaxUid: CT, transferSyntaxUids: [EXPLICIT_LE] }],
      }),
    );
    const ac = await peer.next();
    expect(ac.type).to.equal(PduType.AssociateAc);
    expect(decodeAssociateAc(ac.body ?? Buffer.alloc(0)).contexts[0]).to.deep.include({ id: 1, result: 0, transferSyntaxUid: EXPLICIT_LE });
    return peer;
  }

  send(...pdus: Buffer[]): void {
    for (const p of pdus) this.socket.write(p);
  }

  async next(): Promise<WholePdu> {
    await waitFor('a PDU from bodyroute', () => this.received.length > 0 || this.closed, 10000, 10);
    const p = this.received.shift();
    if (!p) throw new Error('connection closed without a PDU');
    return p;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
