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
import { redactRtmpPath } from '../../server/ingest/rtmp-server.ts';
import { redactSecrets } from '../../server/log.ts';

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
