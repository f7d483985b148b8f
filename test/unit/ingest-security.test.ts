/**
 * The pure parts of the ingest security items (issue 21): who may publish on an SRT port, judged
 * from srt-live-transmit 1.5's own log lines; what the logs say of RTMP paths and URLs; the data
 * folder's lock. The API test (test/api/ingest-security.test.ts) runs them for real.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataDirLockedError, lockDataDir, LOCK_FILE } from '../../server/core/data-dir.ts';
import { SrtCallerGate, plainSrtAddress } from '../../server/ingest/srt-caller-gate.ts';
import { redactRtmpPath } from '../../server/ingest/rtmp-server.ts';
import { redactSecrets } from '../../server/log.ts';
import { isAllowed } from '../../server/http/allow-list.ts';

/** srt-live-transmit's lines for one handshake from `address`, as it writes them at -loglevel:note. */
const passing = (address: string) => [
  `06:02:25.139262/SRT:RcvQ:w1.N:SRT.cn: PASSING request from: ${address}:36063 to agent:164747536`,
  `06:02:25.139330/SRT:RcvQ:w1.N:SRT.cn: Listener managed the connection request from: ${address}:36063 result:waveahand`,
];
const reject = (address: string) => [
  ...passing(address),
  '06:02:25.147082/SRT:RcvQ:w1!W:SRT.cn: KMREQ/rcv: (snd) Rx process failure - BADSECRET',
  '06:02:25.148182/SRT:RcvQ:w1!W:SRT.cn: processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase',
];
const accept = (address: string) => [...passing(address), 'Accepted SRT source connection'];

function feed(gate: SrtCallerGate, lines: string[]) {
  return lines.flatMap((l) => gate.read(l));
}

void describe('SrtCallerGate', () => {
  const gate = (ingest: string[] = [], limit = 3) =>
    new SrtCallerGate({ allowed: (a) => isAllowed(ingest, a), failureLimitPerMinute: limit });

  test('a caller outside the allow-list is refused; one inside is taken', () => {
    const g = gate(['203.0.113.0/24']);
    assert.deepEqual(feed(g, accept('198.51.100.9')), [
      { kind: 'accepted', address: '198.51.100.9', refused: 'not in the ingest allow-list' },
    ]);
    assert.deepEqual(feed(g, accept('203.0.113.7')), [
      { kind: 'accepted', address: '203.0.113.7', refused: undefined },
    ]);
  });

  test('rejected handshakes lock out their own address only, never a known encoder', () => {
    const g = gate([], 3);
    assert.equal(feed(g, accept('203.0.113.7'))[0]?.kind, 'accepted');
    const events = [1, 2, 3].flatMap(() => [
      ...feed(g, reject('198.51.100.9')),
      ...feed(g, reject('203.0.113.7')),
    ]);
    assert.deepEqual(
      events.filter((e) => e.kind === 'rejected' && e.lockedOut).map((e) => e.address),
      ['198.51.100.9'],
    );
    assert.equal(g.isLockedOut('198.51.100.9'), true);
    assert.equal(g.isLockedOut('203.0.113.7'), false);
    assert.deepEqual(feed(g, accept('198.51.100.9')), [
      { kind: 'accepted', address: '198.51.100.9', refused: 'too many rejected handshakes from its address' },
    ]);
    assert.deepEqual(feed(g, accept('203.0.113.7')), [
      { kind: 'accepted', address: '203.0.113.7', refused: undefined },
    ]);
    assert.deepEqual(feed(g, accept('192.0.2.1')), [
      { kind: 'accepted', address: '192.0.2.1', refused: undefined },
    ]);
  });

  test('lines srt-live-transmit wrote without a newline between them are read apart', () => {
    const g = gate(['10.0.0.0/8']);
    const joined = `${passing('10.1.2.3').join('')}06:02:25.148314/SRT:RcvQ:w1.N:SRT.cn: result:INVALIDAccepted SRT source connection`;
    assert.deepEqual(g.read(joined), [{ kind: 'accepted', address: '10.1.2.3', refused: undefined }]);
  });

  test('an acceptance whose address was not seen is refused', () => {
    assert.deepEqual(gate().read('Accepted SRT source connection'), [
      { kind: 'accepted', address: undefined, refused: 'its address is unknown' },
    ]);
  });

  test('addresses as SRT prints them', () => {
    assert.equal(plainSrtAddress('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(plainSrtAddress('[2001:db8::1]'), '2001:db8::1');
    assert.equal(plainSrtAddress('203.0.113.7'), '203.0.113.7');
  });
});

void describe('log redaction', () => {
  test('an RTMP path keeps the application and rendition, never the key', () => {
    assert.equal(redactRtmpPath('live/sk_secret', '720p'), 'live/[redacted]/720p');
    assert.equal(redactRtmpPath('live', 'sk_secret'), 'live/[redacted]');
    assert.equal(redactRtmpPath('sk_secret', ''), '[redacted]');
    assert.equal(redactRtmpPath('live', 'sk_secret/a b/c'), 'live/[redacted]/[redacted]/[redacted]');
  });
  test('secrets in URL parameters', () => {
    assert.equal(
      redactSecrets('"url":"srt://h:9000?mode=caller&passphrase=sk_secret&latency=120"'),
      '"url":"srt://h:9000?mode=caller&passphrase=[redacted]&latency=120"',
    );
    assert.equal(redactSecrets('srt://h:9000?streamid=sk_secret'), 'srt://h:9000?streamid=[redacted]');
  });
});

void describe('data folder lock', () => {
  test('taken once; a live holder refuses a second; a dead one is taken over', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onair-lock-'));
    try {
      const lock = lockDataDir(dir);
      assert.throws(() => lockDataDir(dir, process.pid + 1), DataDirLockedError);
      lock.release();
      lock.release();
      // A pid that cannot be running (above the kernel's pid_max).
      writeFileSync(path.join(dir, LOCK_FILE), '99999999\n');
      lockDataDir(dir).release();
      writeFileSync(path.join(dir, LOCK_FILE), '');
      lockDataDir(dir).release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
