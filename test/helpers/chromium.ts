/** What Chromium needs to publish and play on loopback in tests, E2E specs and the bench. */

/**
 * A fake camera and microphone, no permission prompt, WebRTC over 127.0.0.1 (the server answers
 * only loopback ICE candidates, see ONAIR_LOOPBACK_ONLY_ICE), and pages in background tabs that
 * keep decoding and running timers (publishers and players live in separate pages of one context).
 */
export const FAKE_MEDIA_ARGS: readonly string[] = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
];
