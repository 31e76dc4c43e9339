import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import type { HttpConfig } from '../config/schema';
import { BodyrouteError, errorMessage } from '../errors';
import { Logger } from '../observability/logger';
import { authorized, sameSiteRequest } from './auth';
import { OperatorApi, OperatorError } from './operator-api';
import { statusPage } from './status-page';

const MAX_BODY_BYTES = 16 * 1024;

type Handler = (req: IncomingMessage, match: RegExpExecArray, body: Record<string, unknown>) => Promise<Answer>;
type Answer = { status: number; type: string; body: string | Buffer; cache?: boolean };

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  /** /healthz alone answers without the token (load balancers and systemd probes have none). */
  open?: boolean;
  handle: Handler;
}

const json = (status: number, value: unknown): Answer => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(value) });

/**
 * The operator's HTTP server (node:http: a dozen routes need no framework): the status page, its
 * JSON API and buttons, /metrics, /healthz and /readyz. Every route but /healthz asks for the
 * token when one is configured; every POST must come from the page itself (sameSiteRequest).
 */
export class OperatorHttpServer {
  private server: Server | undefined;
  private readonly routes: Route[];

  constructor(
    private readonly cfg: HttpConfig,
    api: OperatorApi,
    private readonly log: Logger,
  ) {
    const segment = '([^/]+)';
    this.routes = [
      { method: 'GET', path: /^\/healthz$/, open: true, handle: async () => this.health(await api.health()) },
      { method: 'GET', path: /^\/readyz$/, handle: async () => this.health(api.readiness()) },
      {
        method: 'GET',
        path: /^\/metrics$/,
        handle: async () => {
          const m = await api.metrics();
          return { status: 200, type: m.contentType, body: m.body };
        },
      },
      { method: 'GET', path: /^\/$/, handle: async () => ({ status: 200, type: 'text/html; charset=utf-8', body: statusPage() }) },
      { method: 'GET', path: /^\/api\/status$/, handle: async () => json(200, await api.status()) },
      {
        method: 'GET',
        path: new RegExp(`^/api/series/${segment}/thumbnail\\.png$`),
        handle: async (_req, m) => {
          const png = api.thumbnail(m[1]);
          if (!png) throw new OperatorError(404, 'no thumbnail for this series');
          return { status: 200, type: 'image/png', body: png, cache: true };
        },
      },
      {
        method: 'POST',
        path: new RegExp(`^/api/destinations/${segment}/(pause|resume)$`),
        handle: async (_req, m) => {
          const name = m[1];
          await (m[2] === 'pause' ? api.pause(name) : api.resume(name));
          return json(200, { destination: name, [m[2] === 'pause' ? 'paused' : 'resumed']: true });
        },
      },
      {
        method: 'POST',
        path: /^\/api\/dead-letters\/requeue$/,
        handle: async (_req, _m, body) => json(200, { requeued: await api.requeue(optionalString(body.destination), optionalString(body.id)) }),
      },
      {
        method: 'POST',
        path: new RegExp(`^/api/series/${segment}/correction$`),
        handle: async (_req, m, body) => json(200, { rows: await api.correct(m[1], String(body.region ?? '')) }),
      },
    ];
  }

  /** Listens; returns the bound port. A port in use or a bad certificate fails naming it. */
  async start(): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.serve(req, res);
    const tls = this.cfg.tls;
    let server: Server;
    try {
      server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : createHttpServer(handler);
    } catch (err) {
      throw new BodyrouteError('LISTEN_FAILED', `http.tls: ${errorMessage(err)}`, false);
    }
    // requests are short; a client that stalls is dropped rather than holding a socket
    server.requestTimeout = 10000;
    server.headersTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new BodyrouteError('LISTEN_FAILED', `http: ${this.cfg.host}:${this.cfg.port} ${err.code === 'EADDRINUSE' ? 'is in use' : err.message}`, false)),
      );
      server.listen(this.cfg.port, this.cfg.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.log.info('operator HTTP server listening', { host: this.cfg.host, port, tls: Boolean(tls), token: Boolean(this.cfg.token) });
    return port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://bodyroute');
    const candidates = this.routes.filter((r) => r.path.test(url.pathname));
    const route = candidates.find((r) => r.method === req.method);
    let answer: Answer;
    try {
      if (candidates.length === 0) answer = json(404, { error: 'not found' });
      else if (!route) answer = json(405, { error: `use ${candidates.map((r) => r.method).join(' or ')}` });
      else if (!route.open && !authorized(req, this.cfg.token)) {
        res.setHeader('WWW-Authenticate', 'Basic realm="bodyroute", charset="UTF-8"');
        answer = json(401, { error: 'the http.token is needed (Bearer, or as the password of Basic)' });
      } else if (route.method === 'POST' && !sameSiteRequest(req)) {
        answer = json(403, { error: 'refused: not sent by the status page (cross-site request)' });
      } else {
        const body = route.method === 'POST' ? await readJson(req) : {};
        answer = await route.handle(req, decodedMatch(route.path, url.pathname), body);
        if (route.method === 'POST') this.log.info('operator action', { method: req.method, path: url.pathname, peer: req.socket.remoteAddress });
      }
    } catch (err) {
      answer = err instanceof OperatorError ? json(err.httpStatus, { error: err.message }) : json(500, { error: errorMessage(err) });
      if (!(err instanceof OperatorError)) this.log.error('operator HTTP request failed', { path: url.pathname, reason: errorMessage(err) });
    }
    res.statusCode = answer.status;
    res.setHeader('Content-Type', answer.type);
    res.setHeader('Cache-Control', answer.cache ? 'private, max-age=60' : 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self'");
    res.end(answer.body);
  }

  private health(report: { ok: boolean }): Answer {
    return json(report.ok ? 200 : 503, report);
  }
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new OperatorError(400, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new OperatorError(400, `the body is not a JSON object: ${errorMessage(err)}`);
  }
}

/** The route's match with each captured segment URL-decoded; a malformed escape is the client's error. */
function decodedMatch(path: RegExp, pathname: string): RegExpExecArray {
  const m = path.exec(pathname) as RegExpExecArray;
  try {
    for (let i = 1; i < m.length; i++) if (m[i] !== undefined) m[i] = decodeURIComponent(m[i]);
  } catch {
    throw new OperatorError(400, 'malformed escape in the path');
  }
  return m;
}
