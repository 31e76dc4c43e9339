import { expect } from 'chai';
import type { IncomingMessage } from 'node:http';
import { authorized, sameSiteRequest } from '../../../src/http/auth';
import { isLoopbackHost } from '../../../src/net/loopback';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('http/auth', () => {
  it('lets everything through without a token, and with one asks for it as Bearer or as the password of Basic', () => {
    expect(authorized(req({}), undefined)).to.equal(true);
    const token = 'sixteen-chars-ok!';
    expect(authorized(req({}), token)).to.equal(false);
    expect(authorized(req({ authorization: `Bearer ${token}` }), token)).to.equal(true);
    expect(authorized(req({ authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}` }), token)).to.equal(true);
    expect(authorized(req({ authorization: `Bearer ${token}x` }), token)).to.equal(false);
    expect(authorized(req({ authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` }), token)).to.equal(false);
  });

  it('takes a POST only with the page header, and an Origin only when it is this server', () => {
    expect(sameSiteRequest(req({ host: '127.0.0.1:8080' }))).to.equal(false);
    expect(sameSiteRequest(req({ host: '127.0.0.1:8080', 'x-bodyroute-request': '1' }))).to.equal(true);
    expect(sameSiteRequest(req({ host: '127.0.0.1:8080', 'x-bodyroute-request': '1', origin: 'http://127.0.0.1:8080' }))).to.equal(true);
    expect(sameSiteRequest(req({ host: '127.0.0.1:8080', 'x-bodyroute-request': '1', origin: 'http://evil.example' }))).to.equal(false);
    expect(sameSiteRequest(req({ host: '127.0.0.1:8080', 'x-bodyroute-request': '1', origin: 'null' }))).to.equal(false);
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.5.0.9', '::1', 'localhost']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'router.example']) expect(isLoopbackHost(h), h).to.equal(false);
  });
});
