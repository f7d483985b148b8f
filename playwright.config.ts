/**
 * Playwright: the real onair server (API + Next.js UI, built by `npm run build`)
 * on port 3107 with a fresh data dir, driven by Debian's Chromium. Playwright
 * never downloads a browser of its own.
 */
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { FAKE_MEDIA_ARGS } from './test/helpers/chromium.ts';

const PORT = 3107;
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export const E2E_ADMIN_TOKEN = 'onair-e2e-admin-token-0123456789';
export const E2E_RTMP_PORT = 19350;
// Under outputDir, which Playwright empties before it starts the web server: a fresh dir every run.
export const E2E_DATA_DIR = path.join(import.meta.dirname, 'test-results', 'e2e-data');

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  reporter: [['list']],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        ...FAKE_MEDIA_ARGS,
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
  webServer: {
    command: 'node_modules/.bin/node server/main.ts',
    url: `${BASE_URL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 25_000 },
    env: {
      PORT: String(PORT),
      HOST: '127.0.0.1',
      ONAIR_DATA_DIR: E2E_DATA_DIR,
      ONAIR_ADMIN_TOKEN: E2E_ADMIN_TOKEN,
      ONAIR_UI: '1',
      ONAIR_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Every ICE candidate the server gathers or answers is on 127.0.0.1.
      ONAIR_LOOPBACK_ONLY_ICE: '1',
      // Webhook receivers in the tests listen on 127.0.0.1.
      ONAIR_WEBHOOK_ALLOW_PRIVATE: '1',
      // RTMP and SRT on ports of their own, away from a real encoder setup on this machine.
      ONAIR_RTMP_PORT: String(E2E_RTMP_PORT),
      ONAIR_SRT_PORT_MIN: '19400',
      ONAIR_SRT_PORT_MAX: '19419',
      // werift unless ONAIR_SFU picks the engine (ONAIR_SFU=mediasoup where a worker is found).
      ONAIR_SFU: process.env.ONAIR_SFU ?? 'werift',
    },
  },
});
