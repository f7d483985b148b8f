/** The HTTP edge's pure parts: client address through proxies, CSRF, the Host policy, headers. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import { resolveClientAddress, TrustedProxies } from '../../server/http/client-address.ts';
import { assertSameOrigin } from '../../server/http/csrf.ts';
import { HostPolicy } from '../../server/http/host-policy.ts';
import { contentSecurityPolicy, isPagePath } from '../../server/http/security-headers.ts';

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
