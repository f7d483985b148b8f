/**
 * The admin console end to end, in Debian's Chromium with a fake camera: sign in,
 * create a channel, start it, go live from the browser, watch the preview play,
 * run a program, embed the player in a page from another origin, stop everything,
 * sign out. Screenshots of every console screen go to e2e/artifacts/console-*.png.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test, type Frame, type Locator, type Page } from '@playwright/test';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';
import { serveOtherOrigin } from './support/pages.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const MOBILE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 800 };

async function shoot(
  page: Page,
  name: string,
  opts: { mobile?: boolean; target?: Locator } = {},
): Promise<void> {
  const file = (suffix: string) => path.join(ARTIFACTS, `console-${name}${suffix}.png`);
  // Full-page shots from the top, so the sticky header sits where it belongs.
  if (!opts.target) await page.evaluate(() => window.scrollTo(0, 0));
  if (opts.target) await opts.target.screenshot({ path: file('') });
  else await page.screenshot({ path: file(''), fullPage: true });
  if (opts.mobile ?? true) {
    await page.setViewportSize(MOBILE);
    await page.waitForTimeout(150);
    if (opts.target) await opts.target.screenshot({ path: file('-375') });
    else {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: file('-375'), fullPage: true });
    }
    // Nothing scrolls sideways at 375 px (the programs table scrolls inside its own box).
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right + window.scrollX > width + 1)
        .filter((el) => !el.parentElement?.closest('.overflow-x-auto'))
        .slice(0, 5)
        .map(
          (el) =>
            `${el.tagName.toLowerCase()}.${el.className.toString().slice(0, 60)} w=${Math.round(el.getBoundingClientRect().width)}`,
        );
      return {
        by: document.documentElement.scrollWidth - width,
        wide: [
          ...wide,
          `sw=${document.documentElement.scrollWidth} cw=${width} iw=${window.innerWidth} bsw=${document.body.scrollWidth} sx=${window.scrollX}`,
        ],
      };
    });
    expect(overflow.by, `${name} is wider than 375 px: ${overflow.wide.join(' | ')}`).toBeLessThanOrEqual(0);
    await page.setViewportSize(DESKTOP);
  }
}

/** Resolves once the video's currentTime has advanced by `seconds` (it is playing). */
async function expectPlaying(target: Page | Frame, selector: string, seconds = 1.5): Promise<void> {
  const video = target.locator(selector);
  await expect(video).toBeAttached({ timeout: 30_000 });
  let start = -1;
  await expect
    .poll(
      async () => {
        const t = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
        if (start < 0 && t > 0) start = t;
        return start < 0 ? 0 : t - start;
      },
      { timeout: 60_000, intervals: [500] },
    )
    .toBeGreaterThan(seconds);
}

const htmlPage = (title: string, snippet: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="margin:0;padding:16px;background:#fff;font-family:sans-serif"><h1>${title}</h1>${snippet}</body></html>`;

test('a producer runs a live event from the console', async ({ page, context, baseURL }) => {
  test.setTimeout(300_000);
  const BASE_URL = (baseURL ?? '').replace(/\/$/, '');
  expect(BASE_URL).toMatch(/^http:\/\//);
  await page.setViewportSize(DESKTOP);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  // --- Sign-in: every console page sends a stranger to it.
  await page.goto('/console');
  await expect(page).toHaveURL(/\/console\/sign-in\?next=%2Fconsole$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'That admin token is not right' })).toBeVisible();
  await shoot(page, 'sign-in');

  await page.getByLabel('Admin token').fill(E2E_ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/console$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Channels' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'No channels yet' })).toBeVisible();
  await shoot(page, 'dashboard-empty');

  // --- New channel: an invalid one first, its errors inline next to the fields.
  await page.getByRole('button', { name: 'New channel' }).click();
  const dialog = page.getByRole('dialog', { name: 'New channel' });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Name').fill('   ');
  await dialog.getByLabel('Segment length (s)').fill('0');
  await dialog.getByRole('button', { name: 'Create channel' }).click();
  await expect(dialog.getByLabel('Name')).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog.getByText('Must not be empty.')).toBeVisible();
  await expect(dialog.getByText('Must be a whole number of seconds from 1 to 10.')).toBeVisible();
  await shoot(page, 'new-channel');

  await dialog.getByLabel('Name').fill('E2E main stage');
  await dialog.getByLabel('Segment length (s)').fill('1');
  await dialog.getByLabel('Ladder preset').selectOption('480p');
  await dialog.getByRole('button', { name: 'Create channel' }).click();
  await expect(page).toHaveURL(/\/console\/channels\/[\w-]+$/, { timeout: 10_000 });
  const channelId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
  await expect(page.getByRole('heading', { level: 1, name: 'E2E main stage' })).toBeVisible();
  await expect(page.getByText('State: stopped').first()).toBeVisible();

  // Going live before the channel runs is explained, not attempted.
  const publisher = page.getByRole('region', { name: 'Go live from this browser' });
  await publisher.getByRole('button', { name: 'Turn on camera and microphone' }).click();
  await expect(publisher.getByTestId('camera-preview')).toHaveJSProperty('paused', false, {
    timeout: 10_000,
  });
  await expect(publisher.getByLabel('Camera', { exact: true })).not.toHaveValue('');
  await publisher.getByLabel('Resolution').selectOption('360p');
  await expect(publisher.getByText(/Camera sends 640×360/)).toBeVisible({ timeout: 10_000 });
  await publisher.getByRole('button', { name: 'Go live' }).click();
  await expect(publisher.getByRole('alert').filter({ hasText: 'Start the channel first' })).toBeVisible();

  // --- Start the channel, then go live from this browser.
  await page.getByRole('button', { name: 'Start channel' }).click();
  await expect(page.getByText('State: running').first()).toBeVisible({ timeout: 20_000 });
  await expect(page.locator('[data-phase="waiting-publisher"]')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Delete', exact: true })).toBeDisabled();

  await publisher.getByRole('button', { name: 'Go live' }).click();
  await expect(publisher.getByTestId('publisher-connection')).toHaveText('connected', { timeout: 20_000 });
  await expect(publisher.getByLabel('Outgoing bitrate')).toHaveText(/↑ \d/, { timeout: 10_000 });
  await expect(page.locator('[data-phase="on-air"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText('LIVE', { exact: true }).first()).toBeVisible();

  // The microphone meter moves (the fake microphone beeps).
  await expect
    .poll(async () => Number(await publisher.getByTestId('mic-meter').getAttribute('aria-valuenow')), {
      timeout: 10_000,
    })
    .toBeGreaterThan(0);

  // --- The preview plays the channel in real time (WHEP straight from the SFU).
  await expectPlaying(page, 'video[data-testid=live-video]');
  await expect(page.getByRole('region', { name: 'Preview' }).locator('[data-protocol]')).toHaveAttribute(
    'data-protocol',
    'webrtc',
  );
  await expect(page.getByRole('img', { name: /Ingest bitrate over the last 2 minutes; now/ })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Channel events' })).toContainText('channel started');

  // The stream key stays hidden until revealed.
  const key = page.getByLabel('Stream key', { exact: true });
  await expect(key).toHaveAttribute('type', 'password');
  await page.getByRole('button', { name: 'Reveal Stream key' }).click();
  await expect(key).toHaveAttribute('type', 'text');
  await expect(key).toHaveValue(/\S{8,}/);
  await page.getByRole('button', { name: 'Hide Stream key' }).click();
  await page.waitForTimeout(2500); // a couple of chart samples
  await shoot(page, 'channel-live');

  // --- The dashboard shows the channel live (in another tab: the publisher keeps running here).
  const dash = await context.newPage();
  await dash.setViewportSize(DESKTOP);
  await dash.goto('/console');
  const card = dash.getByTestId('channel-card').filter({ hasText: 'E2E main stage' });
  await expect(card.getByText('State: running')).toBeVisible();
  await expect(card.getByText('LIVE', { exact: true })).toBeVisible();
  await expect(card.getByText(/\d+(\.\d)? (k|M)bps/)).toBeVisible({ timeout: 10_000 });
  await dash.waitForTimeout(3500); // a thumbnail, if the server has made one
  await shoot(dash, 'dashboard');

  // --- Programs: create, start.
  const programs = page.getByRole('region', { name: 'Programs' });
  await programs.getByLabel('Program name').fill('Keynote');
  await programs.getByLabel('Archive window (min)').fill('30');
  await programs.getByRole('button', { name: 'Create program' }).click();
  const row = programs.getByTestId('program-row').filter({ hasText: 'Keynote' });
  await expect(row).toContainText('ready');
  await row.getByRole('button', { name: 'Start program Keynote' }).click();
  await expect(row).toContainText('recording');
  await expect(row.getByRole('button', { name: 'Delete program Keynote' })).toBeDisabled();
  await expect(row).toContainText(/0:0[2-9]/, { timeout: 15_000 });
  await card.getByText('1 running').waitFor({ timeout: 10_000 });
  await shoot(page, 'programs', { target: programs });

  // --- Copy the embed snippet, paste it into a page on another origin, and watch it there.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL });
  await page.getByRole('button', { name: 'Copy Embed snippet (iframe)' }).click();
  await expect(page.getByRole('button', { name: 'Copy Embed snippet (iframe)' })).toHaveText('Copied');
  const iframeSnippet = await page.evaluate(() => navigator.clipboard.readText());
  expect(iframeSnippet).toBe(
    `<iframe src="${BASE_URL}/embed/${channelId}" width="640" height="360" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen style="border:0"></iframe>`,
  );
  await page.getByRole('button', { name: 'Copy Embed snippet (script)' }).click();
  const scriptSnippet = await page.evaluate(() => navigator.clipboard.readText());
  expect(scriptSnippet).toContain(
    `<onair-player channel="${channelId}" server="${BASE_URL}"></onair-player>`,
  );

  const other = await serveOtherOrigin({
    '/iframe.html': htmlPage('Iframe embed', iframeSnippet),
    '/script.html': htmlPage('Script embed', scriptSnippet),
  });
  try {
    const otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    expect(otherOrigin).not.toBe(BASE_URL);
    for (const name of ['iframe', 'script']) {
      const embed = await context.newPage();
      await embed.goto(`${otherOrigin}/${name}.html`);
      await expect
        .poll(
          () =>
            embed.frames().find((f) => f.url().startsWith(`${BASE_URL}/embed/${channelId}`)) !== undefined,
          { timeout: 15_000 },
        )
        .toBe(true);
      const frame = embed.frames().find((f) => f.url().startsWith(`${BASE_URL}/embed/${channelId}`));
      if (!frame) throw new Error('no embed frame');
      await expectPlaying(frame, 'video[data-testid=live-video]');
      await embed.screenshot({ path: path.join(ARTIFACTS, `console-embed-${name}.png`) });
      await embed.close();
    }
  } finally {
    await new Promise((r) => other.close(r));
  }

  // --- Stop the program, the broadcast and the channel.
  await row.getByRole('button', { name: 'Stop program Keynote' }).click();
  await expect(row).toContainText('finished');
  await expect(row.getByRole('button', { name: 'Start program Keynote' })).toBeDisabled();
  await publisher.getByRole('button', { name: 'Stop broadcast' }).click();
  await expect(publisher.getByTestId('publisher-connection')).toHaveText('not connected');
  await expect(page.locator('[data-phase="waiting-publisher"]')).toBeVisible({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Stop channel' }).click();
  await expect(page.getByText('State: stopped').first()).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Start channel' })).toBeEnabled();
  await expect(page.getByRole('button', { name: 'Delete', exact: true })).toBeEnabled();
  await expect(card.getByText('State: stopped')).toBeVisible({ timeout: 10_000 });
  await dash.close();

  // --- Sign out: the console is closed again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/console\/sign-in(\?next=[^&]*)?$/);
  await page.goto(`/console/channels/${channelId}`);
  await expect(page).toHaveURL(/\/console\/sign-in\?next=/);
  expect(pageErrors).toEqual([]);
});

test('the channel page explains a missing channel, and deleting asks first', async ({ page, request }) => {
  // Sign in through the API's cookie endpoint, in the page's context.
  const res = await page.request.post('/auth/session', { data: { token: E2E_ADMIN_TOKEN } });
  expect(res.status()).toBe(200);
  await page.goto('/console/channels/ch_doesnotexist');
  await expect(page.getByRole('alert').filter({ hasText: 'This channel does not exist' })).toBeVisible();

  const created = await request.post('/api/v1/channels', {
    headers: { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    data: { name: 'Short-lived' },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  await page.goto(`/console/channels/${id}`);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete “Short-lived”?' });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await confirm.getByRole('button', { name: 'Delete channel' }).click();
  await expect(page).toHaveURL(/\/console$/);
  await expect(page.getByTestId('channel-card').filter({ hasText: 'Short-lived' })).toHaveCount(0);
});
