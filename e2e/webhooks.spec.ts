/**
 * The console's webhooks page in Debian's Chromium: add a receiver (a server on
 * loopback), see a channel's events arrive signed, send a test event, read the
 * last status, delete the webhook. Screenshots: e2e/artifacts/webhooks-*.png.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import type { Channel } from '../lib/schemas.ts';
import { E2E_ADMIN_TOKEN } from '../playwright.config.ts';

const ARTIFACTS = path.join(import.meta.dirname, 'artifacts');
const admin = { Authorization: `Bearer ${E2E_ADMIN_TOKEN}` };

test('a webhook added in the console receives signed events', async ({ page, request }) => {
  const got: { type: string; raw: string; signature: string }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      got.push({
        type: (JSON.parse(raw) as { type: string }).type,
        raw,
        signature: String(req.headers['x-onair-signature']),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/onair`;
  let channel: Channel | undefined;
  try {
    expect((await page.request.post('/auth/session', { data: { token: E2E_ADMIN_TOKEN } })).status()).toBe(
      200,
    );
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto('/console');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Webhooks' }).click();
    await expect(page).toHaveURL(/\/console\/webhooks$/);
    await expect(page.getByText('No webhooks yet')).toBeVisible();

    // A bad URL is explained next to the field.
    await page.getByLabel('Receiver URL').fill('ftp://example.com/x');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.getByText(/http\(s\) URL/).first()).toBeVisible();

    await page.getByLabel('Receiver URL').fill(url);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const card = page.getByTestId('webhook-card').filter({ hasText: url });
    await expect(card).toBeVisible();
    await expect(card.getByTestId('webhook-last')).toContainText('none yet');

    const created = await request.post('/api/v1/channels', { headers: admin, data: { name: 'Hooked' } });
    channel = (await created.json()) as Channel;
    await request.post(`/api/v1/channels/${channel.id}/start`, { headers: admin });
    await expect.poll(() => got.map((g) => g.type), { timeout: 10_000 }).toContain('channel.started');
    await expect(card.getByTestId('webhook-last')).toContainText('delivered', { timeout: 10_000 });

    await card.getByRole('button', { name: 'Send test event' }).click();
    await expect.poll(() => got.map((g) => g.type), { timeout: 10_000 }).toContain('webhook.ping');
    await expect(card.getByTestId('webhook-last')).toContainText('webhook.ping', { timeout: 10_000 });
    await expect(card.getByTestId('webhook-last')).toContainText('HTTP 204');

    // Every delivery verifies with the secret shown in the console.
    await card.getByRole('button', { name: 'Reveal Signing secret' }).click();
    const secret = await card.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    for (const g of got) {
      const [t, v1] = g.signature.split(',').map((p) => p.split('=')[1]);
      expect(createHmac('sha256', secret).update(`${t}.${g.raw}`).digest('hex')).toBe(v1);
    }
    await card.getByText('Recent deliveries').click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-page.png'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-page-375.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 800 });

    await card.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await expect(page.getByText('No webhooks yet')).toBeVisible();
  } finally {
    receiver.close();
    if (channel) await request.post(`/api/v1/channels/${channel.id}/stop`, { headers: admin });
  }
});
