import { readFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { ListenConfig } from '../config/schema';
import { Logger } from '../observability/logger';
import { noTelemetry, Telemetry } from '../observability/telemetry';
import { Clock, systemClock } from '../clock';
import { Spool } from '../spool/spool';
import { SpooledObject } from '../spool/spooled-object';
import { PduParser } from '../dicom/ul/pdu-parser';
import { BodyrouteError, errorMessage } from '../errors';
import { PeerFilter } from './peer-filter';
import { IngestScp } from './scp';

/** The DICOM listener: accepts TCP connections and gives each one an IngestScp. */
export class IngestServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly scps = new Set<IngestScp>();
  private readonly associations = { active: 0 };
  private peers: PeerFilter;

  constructor(
    private readonly listen: ListenConfig,
    private readonly spool: Spool,
    private readonly log: Logger,
    private readonly onStored: (obj: SpooledObject) => void,
    private readonly telemetry: Telemetry = noTelemetry,
    private readonly clock: Clock = systemClock,
  ) {
    this.peers = new PeerFilter(listen.allowedPeers);
  }

  /** Associations open now. */
  get activeAssociations(): number {
    return this.associations.active;
  }

  /** New access lists for the associations accepted from now on (configuration reload). */
  reloadAccess(allowedCallingAeTitles: string[], allowedPeers: string[]): void {
    this.listen.allowedCallingAeTitles = allowedCallingAeTitles;
    this.listen.allowedPeers = allowedPeers;
    this.peers = new PeerFilter(allowedPeers);
  }

  /** Resolves with the bound port (useful when the config asks for port 0). */
  async start(): Promise<number> {
    const tlsOpts = this.listen.tls;
    const server = tlsOpts
      ? createTlsServer(
          {
            cert: readFileSync(tlsOpts.cert),
            key: readFileSync(tlsOpts.key),
            ca: tlsOpts.ca ? readFileSync(tlsOpts.ca) : undefined,
            requestCert: tlsOpts.requireClientCertificate,
            rejectUnauthorized: tlsOpts.requireClientCertificate,
            minVersion: 'TLSv1.2',
          },
          (socket) => this.accept(socket),
        )
      : createServer((socket) => this.accept(socket));
    // a failed handshake (no or untrusted client certificate, not TLS at all) never reaches the SCP
    server.on('tlsClientError', (err, socket) => {
      this.log.warn('TLS handshake failed', { peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message });
    });
    await new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => reject(listenError(err, this.listen.host, this.listen.port));
      server.once('error', failed);
      server.listen(this.listen.port, this.listen.host, () => {
        server.off('error', failed);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error('listener error', { reason: err.message }));
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.listen.port;
    this.log.info('listening for DICOM associations', {
      host: this.listen.host,
      port,
      aeTitle: this.listen.aeTitle,
      ...(this.listen.aeTitles.length ? { alsoAnswers: this.listen.aeTitles.join(',') } : {}),
      tls: Boolean(tlsOpts),
    });
    return port;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    // Connections beyond twice the association limit are not even read: it bounds memory
    // while still letting a peer over the limit receive a proper A-ASSOCIATE-RJ.
    if (this.sockets.size >= this.listen.maxAssociations * 2) {
      this.log.warn('connection refused: too many open connections', { peer: `${socket.remoteAddress}:${socket.remotePort}` });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log.debug('connection error', { peer: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message }));
    const scp: IngestScp = new IngestScp(socket, {
      policy: {
        aeTitles: [this.listen.aeTitle, ...this.listen.aeTitles],
        allowedCallingAeTitles: this.listen.allowedCallingAeTitles,
        maxAssociations: this.listen.maxAssociations,
        acceptNonStandardSopClasses: this.listen.acceptNonStandardSopClasses,
      },
      peers: this.peers,
      spool: this.spool,
      log: this.log,
      maxPduLength: this.listen.maxPduLength,
      timeouts: { associationMs: this.listen.associationTimeoutMs, pduMs: this.listen.pduTimeoutMs, objectMs: this.listen.objectTimeoutMs },
      associations: this.associations,
      onStored: this.onStored,
      telemetry: this.telemetry,
      clock: this.clock,
    });
    this.scps.add(scp);
    socket.on('close', () => this.scps.delete(scp));
    // limits are checked on each PDU header before its body is kept
    const parser = new PduParser({ maxDataPduLength: Math.max(4 * this.listen.maxPduLength, 4 * 1024 * 1024), maxControlPduLength: 1024 * 1024 }, scp);
    let slowPdu: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      scp.activity();
      try {
        parser.push(chunk, this.clock.now());
      } catch (err) {
        // stop reading at once; the A-ABORT goes out and the connection closes
        socket.pause();
        scp.drop(errorMessage(err));
        return;
      }
      // a PDU that takes longer than an object may is a peer trickling bytes to hold a slot
      if (parser.partialSince !== undefined && !slowPdu) {
        const started = parser.partialSince;
        slowPdu = this.clock.setTimer(this.listen.objectTimeoutMs, () => {
          slowPdu = undefined;
          if (parser.partialSince === started) scp.drop(`PDU not received within listen.objectTimeoutMs (${this.listen.objectTimeoutMs} ms)`);
        });
      } else if (parser.partialSince === undefined && slowPdu) {
        slowPdu();
        slowPdu = undefined;
      }
    });
    socket.on('close', () => slowPdu?.());
  }

  /**
   * Stops accepting associations; those in progress finish the object they are sending (its
   * answer goes out) and are then aborted; whatever is still open after `graceMs` is cut.
   */
  async stop(graceMs = 0): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    const allClosed = Promise.all([...this.sockets].map((sock) => new Promise((resolve) => sock.once('close', resolve))));
    for (const scp of this.scps) scp.shutdown();
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([allClosed, new Promise((resolve) => (grace = setTimeout(resolve, graceMs)))]);
    clearTimeout(grace);
    if (this.sockets.size > 0) this.log.warn('associations cut at the end of shutdown.graceSeconds', { open: this.sockets.size });
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): BodyrouteError {
  const where = `port ${port} on ${host}`;
  if (err.code === 'EADDRINUSE') return new BodyrouteError('LISTEN_FAILED', `${where} is in use`, false);
  if (err.code === 'EACCES') return new BodyrouteError('LISTEN_FAILED', `${where}: permission denied (ports below 1024 need privileges)`, false);
  if (err.code === 'EADDRNOTAVAIL') return new BodyrouteError('LISTEN_FAILED', `${where}: no such local address`, false);
  return new BodyrouteError('LISTEN_FAILED', `cannot listen on ${where}: ${err.message}`, false);
}
