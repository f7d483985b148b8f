import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseFlag,
  parseProtocol,
  renditionLabel,
  selectEngine,
} from '../../components/player/select-engine.ts';

test('HLS plays with hls.js where MSE exists, natively where only native HLS exists', () => {
  assert.equal(selectEngine('hls', { mse: true, nativeHls: false }), 'hls.js');
  assert.equal(selectEngine('hls', { mse: true, nativeHls: true }), 'hls.js');
  assert.equal(selectEngine('hls', { mse: false, nativeHls: true }), 'native-hls');
  assert.equal(selectEngine('hls', { mse: false, nativeHls: false }), 'unsupported');
});

test('DASH needs MSE', () => {
  assert.equal(selectEngine('dash', { mse: true, nativeHls: false }), 'dash.js');
  assert.equal(selectEngine('dash', { mse: false, nativeHls: true }), 'unsupported');
});

test('query options parse with safe fallbacks', () => {
  assert.equal(parseProtocol('dash'), 'dash');
  assert.equal(parseProtocol('HLS'), 'hls');
  assert.equal(parseProtocol(null, 'dash'), 'dash');
  assert.equal(parseFlag('0', true), false);
  assert.equal(parseFlag('false', true), false);
  assert.equal(parseFlag('1', false), true);
  assert.equal(parseFlag(undefined, true), true);
  assert.equal(parseFlag('', false), false);
});

test('rendition labels', () => {
  assert.equal(renditionLabel(720, 3_128_000), '720p · 3.1 Mbit/s');
  assert.equal(renditionLabel(360, 800_000), '360p · 800 kbit/s');
  assert.equal(renditionLabel(undefined, 128_000), '128 kbit/s');
});
