import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  delayLabel,
  firstVariantUri,
  isLowLatencyManifest,
  parseFlag,
  parseProtocol,
  renditionLabel,
  selectEngine,
} from '../../components/player/select-engine.ts';
import { dashSettings, hlsConfig, hlsConfigAfter } from '../../components/player/player-config.ts';

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

test('real time needs WebRTC', () => {
  assert.equal(selectEngine('webrtc', { mse: true, nativeHls: false, webrtc: true }), 'webrtc');
  assert.equal(selectEngine('webrtc', { mse: true, nativeHls: true }), 'unsupported');
});

test('?protocol=webrtc (and its other names) picks real time', () => {
  for (const v of ['webrtc', 'WebRTC', 'realtime', 'real-time', 'whep'])
    assert.equal(parseProtocol(v), 'webrtc');
  assert.equal(parseProtocol('rtmp'), 'hls');
});

test('the delay reads in milliseconds in real time, in seconds behind live otherwise', () => {
  assert.equal(delayLabel('webrtc', 0.184), '184 ms delay');
  assert.equal(delayLabel('webrtc', 1.25), '1.3 s delay');
  assert.equal(delayLabel('hls', 7.04), '7.0 s behind live');
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

test('low latency is recognised from the manifests the origin renders (golden files)', () => {
  const golden = (name: string) => readFileSync(new URL(`../golden/${name}`, import.meta.url), 'utf8');
  assert.equal(isLowLatencyManifest(golden('ll-720p.m3u8')), true);
  assert.equal(isLowLatencyManifest(golden('ll.mpd')), true);
  assert.equal(isLowLatencyManifest(golden('live-720p.m3u8')), false);
  assert.equal(isLowLatencyManifest(golden('live.mpd')), false);
  assert.equal(firstVariantUri(golden('master.m3u8')), '720p.m3u8');
  assert.equal(firstVariantUri(golden('live-720p.m3u8')), undefined);
});

test('player configuration: low latency holds the stream’s own target, standard sits two segments back, DVR never catches up', () => {
  const ll = { dvr: false, lowLatency: true };
  const standard = { dvr: false, lowLatency: false };
  const dvr = { dvr: true, lowLatency: true };
  assert.equal(hlsConfig(ll).lowLatencyMode, true);
  assert.equal(hlsConfig(ll).liveSyncDurationCount, undefined, 'PART-HOLD-BACK decides');
  assert.equal(hlsConfig(standard).liveSyncDurationCount, 2);
  assert.equal(hlsConfig(dvr).maxLiveSyncPlaybackRate, 1);
  assert.deepEqual(hlsConfigAfter(dvr), {});
  assert.deepEqual(hlsConfigAfter(ll), { liveMaxLatencyDurationCount: 10 });
  assert.deepEqual(dashSettings(standard).streaming.delay, {
    useSuggestedPresentationDelay: false,
    liveDelayFragmentCount: 2.5,
  });
  assert.deepEqual(dashSettings(ll).streaming.delay, { useSuggestedPresentationDelay: true });
  assert.equal(dashSettings(ll).streaming.liveCatchup, undefined);
  assert.deepEqual(dashSettings(dvr).streaming.liveCatchup, { enabled: false });
});
