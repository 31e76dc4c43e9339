import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

/** The header a POST must carry: a cross-site form cannot set it, and a cross-site script would need CORS, which bodyroute never grants. */
export const REQUEST_HEADER = 'x-bodyroute-request';

/**
 * Is the request allowed? Without a token everything is (bodyroute then listens on loopback only:
 * the configuration refuses otherwise). With one, the request carries it as a Bearer token
 * (Prometheus) or as the password of HTTP Basic (a browser asks for it once).
 */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const [scheme, value = ''] = header.split(' ', 2);
  let given = '';
  if (/^bearer$/i.test(scheme)) given = value;
  else if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A state-changing request from another site is refused: it must carry REQUEST_HEADER, and an Origin, where sent, must be this server's. */
export function sameSiteRequest(req: IncomingMessage): boolean {
  if (req.headers[REQUEST_HEADER] !== '1') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
