/** loadConfig: the defaults, and one-line errors that name the variable. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.ts';

function configError(env: Record<string, string>): string {
  let message = '';
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
      message = err.message;
      return true;
    },
  );
  assert.doesNotMatch(message, /\n/, `one line: ${message}`);
  return message;
}

void describe('loadConfig', () => {
  void test('an empty environment gives the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, path.resolve('./data'));
    assert.equal(c.mediaDir, path.join(path.resolve('./data'), 'media'));
    assert.equal(c.adminToken, undefined);
    assert.equal(c.publicUrl, undefined);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.ui, true);
    assert.equal(c.dev, false);
    assert.deepEqual(c.iceServers, []);
    assert.equal(c.rtcPortRange, undefined);
  });

  void test('empty strings count as unset', () => {
    const c = loadConfig({ PORT: '', ONAIR_ADMIN_TOKEN: '', ONAIR_LOG_LEVEL: '' });
    assert.equal(c.port, 3000);
    assert.equal(c.adminToken, undefined);
    assert.equal(c.logLevel, 'info');
  });

  void test('values are read and normalised', () => {
    const c = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      ONAIR_DATA_DIR: '/tmp/onair-data',
      ONAIR_ADMIN_TOKEN: 'a-very-long-admin-token',
      ONAIR_PUBLIC_URL: 'https://live.example.com/',
      ONAIR_LOG_LEVEL: 'debug',
      ONAIR_UI: '0',
      NODE_ENV: 'development',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.dataDir, '/tmp/onair-data');
    assert.equal(c.mediaDir, '/tmp/onair-data/media');
    assert.equal(c.adminToken, 'a-very-long-admin-token');
    assert.equal(c.publicUrl, 'https://live.example.com', 'the trailing slash is dropped');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.ui, false);
    assert.equal(c.dev, true);
  });

  void test('PORT 0 (any free port) and 65535 are valid', () => {
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
  });

  const bad: [string, string][] = [
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['ONAIR_LOG_LEVEL', 'loud'],
    ['ONAIR_ADMIN_TOKEN', 'short'],
    ['ONAIR_ADMIN_TOKEN', 'sixteen chars but spaces'],
    ['ONAIR_PUBLIC_URL', 'ftp://example.com'],
    ['ONAIR_PUBLIC_URL', 'live.example.com'],
    ['ONAIR_UI', 'yes'],
  ];
  for (const [name, value] of bad) {
    void test(`${name}=${JSON.stringify(value)} is refused with a one-line message naming ${name}`, () => {
      const message = configError({ [name]: value });
      assert.ok(message.includes(name), message);
      assert.ok(message.includes(value), `the message shows the bad value: ${message}`);
    });
  }

  void test('the first bad variable is named even when others are fine', () => {
    const message = configError({ HOST: '127.0.0.1', PORT: 'abc', ONAIR_LOG_LEVEL: 'info' });
    assert.match(message, /PORT/);
    assert.doesNotMatch(message, /HOST|ONAIR_LOG_LEVEL/);
  });

  void test('ONAIR_ICE_SERVERS must be a JSON array of ICE servers', () => {
    assert.deepEqual(
      loadConfig({ ONAIR_ICE_SERVERS: '[{"urls":"stun:stun.example.com:3478"}]' }).iceServers,
      [{ urls: 'stun:stun.example.com:3478' }],
    );
    assert.match(configError({ ONAIR_ICE_SERVERS: 'stun:x' }), /ONAIR_ICE_SERVERS/);
    assert.match(configError({ ONAIR_ICE_SERVERS: '[{"url":"stun:x"}]' }), /ONAIR_ICE_SERVERS/);
  });

  void test('the RTC port range is set together and spans at least 10 ports', () => {
    assert.deepEqual(
      loadConfig({ ONAIR_RTC_PORT_MIN: '40000', ONAIR_RTC_PORT_MAX: '40100' }).rtcPortRange,
      [40000, 40100],
    );
    assert.match(configError({ ONAIR_RTC_PORT_MIN: '40000' }), /ONAIR_RTC_PORT_M(IN|AX)/);
    assert.match(
      configError({ ONAIR_RTC_PORT_MIN: '40000', ONAIR_RTC_PORT_MAX: '40005' }),
      /ONAIR_RTC_PORT_MAX/,
    );
  });
});
