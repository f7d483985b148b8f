/** Which playback engine a browser should use: a pure rule, unit-tested. */
export type Protocol = 'hls' | 'dash' | 'webrtc';
export type PlaybackEngine = 'hls.js' | 'native-hls' | 'dash.js' | 'webrtc' | 'unsupported';

/** How each protocol is named to viewers. */
export const PROTOCOL_LABELS: Record<Protocol, string> = { hls: 'HLS', dash: 'DASH', webrtc: 'Real-time' };

export interface BrowserCapabilities {
  /** MediaSource (or ManagedMediaSource) with H.264/AAC in fMP4. */
  mse: boolean;
  /** `video.canPlayType('application/vnd.apple.mpegurl')` is non-empty (Safari, iOS). */
  nativeHls: boolean;
  /** RTCPeerConnection exists (WHEP). */
  webrtc?: boolean;
}

export function selectEngine(protocol: Protocol, caps: BrowserCapabilities): PlaybackEngine {
  if (protocol === 'webrtc') return caps.webrtc ? 'webrtc' : 'unsupported';
  if (protocol === 'dash') return caps.mse ? 'dash.js' : 'unsupported';
  // MSE first: hls.js gives the quality menu and latency figures; native HLS is
  // the fallback where MSE is missing (iPhone before iOS 17.1).
  if (caps.mse) return 'hls.js';
  if (caps.nativeHls) return 'native-hls';
  return 'unsupported';
}

/** `?protocol=` as given (case-insensitive); `realtime` and `whep` also mean WebRTC. */
export function parseProtocol(value: string | null | undefined, fallback: Protocol = 'hls'): Protocol {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'dash' || v === 'hls' || v === 'webrtc') return v;
  if (v === 'realtime' || v === 'real-time' || v === 'whep') return 'webrtc';
  return fallback;
}

/** Query flags such as ?muted=0 or ?controls=false. */
export function parseFlag(value: string | null | undefined, fallback: boolean): boolean {
  if (value === null || value === undefined || value === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(value.toLowerCase());
}

export function detectCapabilities(): BrowserCapabilities {
  if (typeof window === 'undefined') return { mse: false, nativeHls: false, webrtc: false };
  const w = window as unknown as {
    MediaSource?: { isTypeSupported(t: string): boolean };
    ManagedMediaSource?: { isTypeSupported(t: string): boolean };
  };
  const ms = w.MediaSource ?? w.ManagedMediaSource;
  const mse = !!ms && ms.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"');
  const nativeHls = document.createElement('video').canPlayType('application/vnd.apple.mpegurl') !== '';
  return { mse, nativeHls, webrtc: typeof window.RTCPeerConnection === 'function' };
}

/** A short label for a rendition: 720p · 3.0 Mbit/s. */
export function renditionLabel(height: number | undefined, bitrate: number): string {
  const mbps =
    bitrate >= 1_000_000
      ? `${(bitrate / 1_000_000).toFixed(1)} Mbit/s`
      : `${Math.round(bitrate / 1000)} kbit/s`;
  return height ? `${height}p · ${mbps}` : mbps;
}

/** The player's delay label: real time in milliseconds, segment-based playback in seconds behind live. */
export function delayLabel(protocol: Protocol, seconds: number): string {
  if (protocol === 'webrtc')
    return seconds < 1 ? `${Math.round(seconds * 1000)} ms delay` : `${seconds.toFixed(1)} s delay`;
  return `${seconds.toFixed(1)} s behind live`;
}

/**
 * Standard-latency streams (whole segments only): our players sit this many segments behind the
 * newest listed one. Lower than the playlists' own hold-back (three target durations, which other
 * players honour), so the watch page is within three segment durations of real time although the
 * newest segment is up to one playlist refresh old when playback starts.
 */
export const STANDARD_HLS_SYNC_SEGMENTS = 2;
/** dash.js computes the live edge from the clock (no refresh lag): a little more margin. */
export const STANDARD_DASH_DELAY_SEGMENTS = 2.5;

/** The first variant's URI of an HLS master playlist (a media playlist: undefined). */
export function firstVariantUri(master: string): string | undefined {
  const lines = master.split(/\r?\n/);
  const i = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
  if (i < 0) return undefined;
  return lines
    .slice(i + 1)
    .find((l) => l.trim() !== '' && !l.startsWith('#'))
    ?.trim();
}

/** An LL-HLS media playlist (parts) or a low-latency MPD (chunked segments available early). */
export function isLowLatencyManifest(text: string): boolean {
  return /^#EXT-X-PART-INF:/m.test(text) || /availabilityTimeOffset=|<ServiceDescription[\s>]/.test(text);
}
