/** The HTTP edge's pure parts: client address through proxies, CSRF, the Host policy, headers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OnairError } from '../../lib/errors.ts';
import { resolveClientAddress, TrustedProxies } from '../../server/http/client-address.ts';
import { assertSameOrigin } from '../../server/http/csrf.ts';
import { HostPolicy } from '../../server/http/host-policy.ts';
import { contentSecurityPolicy, isPagePath } from '../../server/http/security-headers.ts';
import { UiMount } from '../../server/http/ui-mount.ts';
import { createLogger } from '../../server/log.ts';

function req(peer: string, headers: Record<string, string> = {}, method = 'GET'): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers, method } as unknown as IncomingMessage;
}

void describe('resolveClientAddress', () => {
  const none = new TrustedProxies([]);
  const proxy = new TrustedProxies(['10.0.0.0/8', '::1']);

  void test('without trusted proxies, forwarding headers are ignored (a client cannot pick its address)', () => {
    assert.equal(
      resolveClientAddress(req('203.0.113.9', { 'x-forwarded-for': '1.2.3.4' }), none),
      '203.0.113.9',
    );
    assert.equal(resolveClientAddress(req('::ffff:203.0.113.9'), none), '203.0.113.9');
  });

  void test('from an untrusted peer, forwarding headers are ignored even when proxies are configured', () => {
    assert.equal(
      resolveClientAddress(req('203.0.113.9', { 'x-forwarded-for': '1.2.3.4' }), proxy),
      '203.0.113.9',
    );
  });

  void test('through trusted proxies, the first untrusted hop from the right is the client', () => {
    assert.equal(
      resolveClientAddress(req('10.0.0.2', { 'x-forwarded-for': '198.51.100.7' }), proxy),
      '198.51.100.7',
    );
    // A client that prepends its own "hop" does not get to choose: the proxy appended the real one.
    assert.equal(
      resolveClientAddress(req('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.5' }), proxy),
      '198.51.100.7',
    );
    assert.equal(
      resolveClientAddress(req('::1', { 'x-forwarded-for': '2001:db8::7' }), proxy),
      '2001:db8::7',
    );
  });

  void test('Forwarded (RFC 7239) is read first, with quotes, brackets and ports', () => {
    assert.equal(
      resolveClientAddress(
        req('10.0.0.2', {
          forwarded: 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https',
          'x-forwarded-for': '9.9.9.9',
        }),
        proxy,
      ),
      '2001:db8:cafe::17',
    );
    assert.equal(
      resolveClientAddress(req('10.0.0.2', { forwarded: 'for=192.0.2.60:80' }), proxy),
      '192.0.2.60',
    );
  });

  void test('an unknown hop stops at the last trusted proxy', () => {
    assert.equal(resolveClientAddress(req('10.0.0.2', { forwarded: 'for=unknown' }), proxy), '10.0.0.2');
    assert.equal(resolveClientAddress(req('10.0.0.2', { 'x-forwarded-for': 'garbage' }), proxy), '10.0.0.2');
    assert.equal(resolveClientAddress(req('10.0.0.2'), proxy), '10.0.0.2');
  });
});

void describe('assertSameOrigin', () => {
  const check = (headers: Record<string, string>, method = 'POST', publicUrl?: string): string => {
    try {
      assertSameOrigin(req('127.0.0.1', { host: '127.0.0.1:3000', ...headers }, method), publicUrl);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof OnairError);
      return `${err.status} ${err.code}`;
    }
  };

  void test('safe methods pass', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS'])
      assert.equal(check({ 'sec-fetch-site': 'cross-site' }, m), 'ok');
  });

  void test('Sec-Fetch-Site must be same-origin', () => {
    assert.equal(check({ 'sec-fetch-site': 'same-origin' }), 'ok');
    assert.equal(
      check({ 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:3000' }),
      '403 cross_origin_request',
    );
    assert.equal(check({ 'sec-fetch-site': 'cross-site' }), '403 cross_origin_request');
    assert.equal(check({ 'sec-fetch-site': 'none' }, 'DELETE'), '403 cross_origin_request');
  });

  void test('without Sec-Fetch-Site, Origin must be this server (another port of the same host is not)', () => {
    assert.equal(check({ origin: 'http://127.0.0.1:3000' }), 'ok');
    assert.equal(check({ origin: 'http://127.0.0.1:8080' }), '403 cross_origin_request');
    assert.equal(check({ origin: 'null' }), '403 cross_origin_request');
    assert.equal(check({}), '403 cross_origin_request');
    assert.equal(check({ origin: 'https://live.example.com' }, 'POST', 'https://live.example.com'), 'ok');
    assert.equal(
      check({ origin: 'https://evil.example' }, 'PATCH', 'https://live.example.com'),
      '403 cross_origin_request',
    );
  });
});

void describe('HostPolicy', () => {
  const policy = new HostPolicy({
    publicUrl: undefined,
    allowedHosts: ['live.example.com', '*.cdn.example'],
  });
  const base = (host: string | undefined) => policy.baseUrl(req('127.0.0.1', host ? { host } : {}));

  void test('own names are used in URLs, anything else is not reflected', () => {
    assert.equal(base('127.0.0.1:3000'), 'http://127.0.0.1:3000');
    assert.equal(base('localhost:3000'), 'http://localhost:3000');
    assert.equal(base('[::1]:3000'), 'http://[::1]:3000');
    assert.equal(base('live.example.com'), 'http://live.example.com');
    assert.equal(base('edge1.cdn.example:8443'), 'http://edge1.cdn.example:8443');
    for (const evil of ['evil.example', 'evil.example:3000', 'x"><script>', 'a b', 'cdn.example.evil']) {
      assert.equal(base(evil), '', evil);
    }
    assert.equal(base(undefined), '');
  });

  void test('ONAIR_PUBLIC_URL wins over any Host', () => {
    const p = new HostPolicy({ publicUrl: 'https://tv.example.org', allowedHosts: [] });
    assert.equal(p.baseUrl(req('127.0.0.1', { host: 'evil.example' })), 'https://tv.example.org');
    assert.equal(
      new HostPolicy({ publicUrl: undefined, allowedHosts: ['*'] }).allows('anything.example'),
      true,
    );
  });
});

void describe('security headers', () => {
  void test('the console cannot be framed; the embed page can', () => {
    assert.match(contentSecurityPolicy('console'), /frame-ancestors 'none'/);
    assert.match(contentSecurityPolicy('embed'), /frame-ancestors \*/);
    assert.match(contentSecurityPolicy('console'), /object-src 'none'/);
    assert.doesNotMatch(contentSecurityPolicy('console'), /unsafe-eval/);
    assert.match(contentSecurityPolicy('console', { dev: true }), /unsafe-eval/);
  });

  void test('pages are told from build files', () => {
    for (const p of ['/', '/console', '/console/channels/ch_x', '/watch/ch_x', '/embed/ch_x'])
      assert.ok(isPagePath(p), p);
    for (const p of ['/_next/static/chunks/a.js', '/embed.js', '/icon.svg']) assert.ok(!isPagePath(p), p);
  });
});

/** The script-src directive of a CSP. */
const scriptSrc = (csp: string | string[] | undefined) =>
  /(?:^|; )script-src ([^;]*)/.exec(typeof csp === 'string' ? csp : '')?.[1] ?? '';

void describe('page scripts run by nonce, not by unsafe-inline', () => {
  /** GETs `path` through a UiMount over a real socket; returns the response headers and what the page handler saw. */
  async function get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ res: IncomingHttpHeaders; seen: IncomingHttpHeaders }> {
    let seen: IncomingHttpHeaders = {};
    const mount = new UiMount({
      dev: false,
      publicUrl: undefined,
      enabled: true,
      isSignedIn: () => Promise.resolve(true),
      log: createLogger('silent'),
    });
    mount.attach({
      handle: (req, res) => {
        seen = { ...req.headers };
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
        return Promise.resolve();
      },
    });
    const server = createServer(
      (req, res) => void mount.serve(req, res, new URL(req.url ?? '/', 'http://x').pathname),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await new Promise<IncomingHttpHeaders>((resolve, reject) =>
        request({ host: '127.0.0.1', port, path, headers }, (r) => {
          r.resume();
          r.on('end', () => resolve(r.headers));
        })
          .on('error', reject)
          .end(),
      );
      return { res, seen };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  void test('each page gets a fresh nonce, in its CSP and handed to Next.js in the request', async () => {
    const nonces = new Set<string>();
    for (const path of ['/console/sign-in', '/watch/ch_x', '/embed/ch_x', '/console/sign-in']) {
      const { res, seen } = await get(path);
      const csp = res['content-security-policy'];
      const nonce = seen['x-nonce'];
      assert.ok(typeof nonce === 'string' && /^[A-Za-z0-9+/]{22,}={0,2}$/.test(nonce), path);
      assert.equal(scriptSrc(csp), `'self' 'nonce-${nonce}'`, path);
      // Next.js reads the nonce from the request's CSP and puts it on its scripts.
      assert.equal(seen['content-security-policy'], csp, path);
      nonces.add(nonce);
    }
    assert.equal(nonces.size, 4, 'a new nonce every time');
  });

  void test('a client cannot choose the nonce', async () => {
    const { res, seen } = await get('/watch/ch_x', {
      'x-nonce': 'chosen',
      'content-security-policy': "script-src 'nonce-chosen'",
    });
    assert.notEqual(seen['x-nonce'], 'chosen');
    assert.doesNotMatch(String(seen['content-security-policy']), /chosen/);
    assert.doesNotMatch(String(res['content-security-policy']), /chosen/);
  });

  void test('build files get no nonce, and no policy allows inline scripts', async () => {
    const { res, seen } = await get('/_next/static/chunks/a.js');
    assert.equal(scriptSrc(res['content-security-policy']), "'self'");
    assert.equal(seen['x-nonce'], undefined);
    for (const kind of ['console', 'embed'] as const)
      assert.doesNotMatch(scriptSrc(contentSecurityPolicy(kind)), /unsafe-inline/, kind);
  });
});
