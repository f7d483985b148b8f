/** The console's pure helpers: formatting, embed snippets, redirects, chart geometry, form errors. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  chartPoints,
  embedSnippets,
  formatDuration,
  formatKbps,
  niceMax,
  programDurationSeconds,
  safeNextPath,
} from '../../components/console/format.ts';
import { fieldErrorsFromApi, fieldErrorsFromZod } from '../../components/console/form-errors.ts';
import { ApiError } from '../../lib/api-client.ts';
import { ChannelCreateSchema } from '../../lib/schemas.ts';

describe('formatting', () => {
  test('formatKbps', () => {
    assert.equal(formatKbps(null), '—');
    assert.equal(formatKbps(Number.NaN), '—');
    assert.equal(formatKbps(812.4), '812 kbps');
    assert.equal(formatKbps(2450), '2.5 Mbps');
    assert.equal(formatKbps(12_400), '12 Mbps');
  });
  test('formatDuration', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(42.9), '0:42');
    assert.equal(formatDuration(725), '12:05');
    assert.equal(formatDuration(3723), '1:02:03');
    assert.equal(formatDuration(-5), '0:00');
  });
  test('programDurationSeconds', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    assert.equal(programDurationSeconds({ state: 'stopped', startedAt: null, stoppedAt: null }, now), null);
    assert.equal(
      programDurationSeconds({ state: 'running', startedAt: '2026-01-01T00:09:00Z', stoppedAt: null }, now),
      60,
    );
    assert.equal(
      programDurationSeconds(
        { state: 'stopped', startedAt: '2026-01-01T00:00:00Z', stoppedAt: '2026-01-01T00:00:30Z' },
        now,
      ),
      30,
    );
  });
});

describe('embedSnippets', () => {
  const channel = {
    id: 'ch_abc',
    urls: {
      whip: 'https://tv.example.org/whip/ch_abc',
      whipBackup: 'https://tv.example.org/whip/ch_abc/backup',
      whep: 'https://tv.example.org/whep/ch_abc',
      hls: 'https://tv.example.org/live/ch_abc/master.m3u8',
      dash: 'https://tv.example.org/live/ch_abc/manifest.mpd',
      watch: 'https://tv.example.org/watch/ch_abc',
      embed: 'https://tv.example.org/embed/ch_abc',
      rtmp: null,
      rtmps: null,
      srt: null,
      rtmpBackup: null,
      srtBackup: null,
    },
  };
  test('the iframe points at the embed URL with autoplay and fullscreen allowed', () => {
    assert.equal(
      embedSnippets(channel).iframe,
      '<iframe src="https://tv.example.org/embed/ch_abc" width="640" height="360" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen style="border:0"></iframe>',
    );
  });
  test('the script snippet loads embed.js from the server origin', () => {
    assert.equal(
      embedSnippets(channel).script,
      '<script src="https://tv.example.org/embed.js" async></script><onair-player channel="ch_abc" server="https://tv.example.org"></onair-player>',
    );
  });
  test('attribute values are escaped', () => {
    const odd = {
      ...channel,
      id: 'a"b',
      urls: { ...channel.urls, embed: 'https://tv.example.org/embed/a"b' },
    };
    assert.match(embedSnippets(odd).script, /channel="a&quot;b"/);
  });
});

describe('safeNextPath', () => {
  test('keeps console paths', () => {
    assert.equal(safeNextPath('/console/channels/ch_1?x=1'), '/console/channels/ch_1?x=1');
    assert.equal(safeNextPath('/console'), '/console');
  });
  test('anything else goes to /console', () => {
    for (const bad of [
      undefined,
      null,
      '',
      'https://evil.example/console',
      '//evil.example/console',
      '/watch/x',
      '/console\\..',
      '/console/sign-in',
    ]) {
      assert.equal(safeNextPath(bad), '/console', String(bad));
    }
  });
});

describe('chart geometry', () => {
  test('samples map onto the window, newest at the right edge, old ones dropped', () => {
    const samples = [
      { at: 0, value: 100 },
      { at: 60_000, value: 50 },
      { at: 120_000, value: 0 },
      { at: 180_000, value: 100 },
    ];
    const pts = chartPoints(samples, { now: 180_000, windowMs: 120_000, width: 120, height: 10, max: 100 });
    assert.equal(pts, '0.0,5.0 60.0,10.0 120.0,0.0');
  });
  test('values above max are clamped', () => {
    assert.equal(
      chartPoints([{ at: 10, value: 500 }], { now: 10, windowMs: 10, width: 10, height: 10, max: 100 }),
      '10.0,0.0',
    );
  });
  test('niceMax rounds up to 1, 2 or 5 × 10^n', () => {
    assert.equal(niceMax([]), 1);
    assert.equal(niceMax([0.5]), 1);
    assert.equal(niceMax([1.2]), 2);
    assert.equal(niceMax([30]), 50);
    assert.equal(niceMax([2345]), 5000);
    assert.equal(niceMax([6000]), 10_000);
  });
});

describe('form errors', () => {
  test('zod issues become one sentence per field', () => {
    const r = ChannelCreateSchema.safeParse({ name: '  ', segmentSeconds: 0 });
    assert.equal(r.success, false);
    if (r.success) return;
    assert.deepEqual(fieldErrorsFromZod(r.error), {
      name: 'Must not be empty.',
      segmentSeconds: 'Must be a whole number of seconds from 1 to 10.',
    });
  });
  test('an issue without a path is a form error', () => {
    const r = z.string().safeParse(1);
    assert.ok(!r.success);
    assert.ok(fieldErrorsFromZod(r.error).form);
  });
  test("a 422 with a known field goes next to it without the server's prefix", () => {
    const err = new ApiError(
      422,
      'validation_failed',
      'segmentSeconds: must be a whole number of seconds from 1 to 10',
      'segmentSeconds',
    );
    assert.deepEqual(fieldErrorsFromApi(err, ['name', 'segmentSeconds']), {
      segmentSeconds: 'Must be a whole number of seconds from 1 to 10.',
    });
  });
  test('nested fields map to their top-level field', () => {
    const err = new ApiError(422, 'validation_failed', 'ingest.0: must be an IP address', 'ingest.0');
    assert.deepEqual(fieldErrorsFromApi(err, ['ingest']), { ingest: 'Must be an IP address.' });
  });
  test('other errors are a sentence for the whole form', () => {
    const err = new ApiError(0, 'network_error', 'cannot reach');
    assert.deepEqual(fieldErrorsFromApi(err, ['name']), {
      form: 'The onair server cannot be reached. Check that it is running.',
    });
    const unknownField = new ApiError(422, 'validation_failed', 'bogus: is not a known field', 'bogus');
    assert.deepEqual(Object.keys(fieldErrorsFromApi(unknownField, ['name'])), ['form']);
  });
});
