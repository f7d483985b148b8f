/**
 * What the packager's unit tests share: the golden files, a fixed clock and the
 * AAC audio track of every hand-built timeline.
 * Regenerate the goldens with UPDATE_GOLDEN=1 after checking them by eye.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrackInfo } from '../../server/packager/timeline.ts';

export const GOLDEN_DIR = join(import.meta.dirname, '..', 'golden');
export const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

/** Asserts `actual` equals test/golden/<name> (or writes it with UPDATE_GOLDEN=1). */
export function golden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'), `differs from golden ${name}`);
}

/** H.264 720p at 3 Mb/s. */
export const VIDEO_720P: TrackInfo = {
  id: '720p',
  kind: 'video',
  codec: 'avc1.64001f',
  bandwidth: 3_000_000,
  width: 1280,
  height: 720,
  timescale: 12800,
};

/** Stereo AAC at 128 kb/s, 48 kHz. */
export const AUDIO: TrackInfo = {
  id: 'audio',
  kind: 'audio',
  codec: 'mp4a.40.2',
  bandwidth: 128_000,
  sampleRate: 48000,
  channels: 2,
  timescale: 48000,
};
