/** /api/v1: thin handlers over the control plane. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  INGEST_ROLES,
  PageQuerySchema,
  PlaybackTokenCreateSchema,
  type IngestRole,
  type PlaybackToken,
} from '../../lib/schemas.ts';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelLiveStats, ChannelStats } from '../../lib/stats.ts';
import { parseWith } from '../../lib/validate.ts';
import type { PlaybackTokens } from '../auth/playback-token.ts';
import type { ControlPlane } from '../core/control-plane.ts';
import type { AssetRecord, ChannelRecord, ProgramRecord } from '../store/store.ts';
import { mediaType, readBody, readJson, sendJson } from '../http/http.ts';
import type { Webhooks } from '../webhooks/webhooks.ts';
import { Router, type RouteContext } from './router.ts';

export interface ApiDeps {
  control: ControlPlane;
  baseUrl: (ctx: RouteContext) => string;
  /** Live figures of a channel (ingest, encoder, output); added by the media runtime. */
  stats?: (channelId: string) => ChannelLiveStats;
  playbackTokens?: PlaybackTokens;
  webhooks?: Webhooks;
  /** Redundant ingest: switching inputs, the slate picture. */
  ingest?: IngestControl;
}

export interface IngestControl {
  switchInput(channelId: string, to?: IngestRole): string;
  slateImage(channelId: string): string;
  setSlateImage(channelId: string, image: Buffer): Promise<void>;
  deleteSlateImage(channelId: string): Promise<void>;
}

const SwitchSchema = z.strictObject({
  to: z.enum(INGEST_ROLES, { error: `must be one of ${INGEST_ROLES.join(', ')}` }).optional(),
});
const SLATE_MAX_BYTES = 2 * 1024 * 1024;

function page(ctx: RouteContext) {
  return parseWith(PageQuerySchema, Object.fromEntries(ctx.url.searchParams));
}

export function buildApiRouter({
  control,
  baseUrl,
  stats,
  playbackTokens,
  webhooks,
  ingest,
}: ApiDeps): Router {
  const r = new Router();
  const { channels, programs, assets } = control;
  const channel = async (ctx: RouteContext, status: number, rec: ChannelRecord) =>
    sendJson(ctx.res, status, await channels.view(rec, baseUrl(ctx)));
  const id = (ctx: RouteContext) => ctx.params.id ?? '';

  r.on('GET', '/api/v1/channels', async (ctx) => {
    const p = await channels.list(page(ctx));
    const items = await Promise.all(p.items.map((c) => channels.view(c, baseUrl(ctx))));
    sendJson(ctx.res, 200, { ...p, items });
  });
  r.on('POST', '/api/v1/channels', async (ctx) => {
    const rec = await channels.create(await readJson(ctx.req));
    await channel(ctx, 201, rec);
  });
  r.on('GET', '/api/v1/channels/:id', async (ctx) => channel(ctx, 200, await channels.get(id(ctx))));
  r.on('PATCH', '/api/v1/channels/:id', async (ctx) => {
    await channels.get(id(ctx)); // an unknown id is a 404 whatever the body
    const body = await readJson(ctx.req);
    await channel(ctx, 200, await channels.patch(id(ctx), body));
  });
  r.on('DELETE', '/api/v1/channels/:id', async (ctx) => {
    await channels.delete(id(ctx));
    ctx.res.writeHead(204).end();
  });
  r.on('POST', '/api/v1/channels/:id/start', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    await channel(ctx, 200, await channels.start(id(ctx)));
  });
  r.on('POST', '/api/v1/channels/:id/stop', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    await channel(ctx, 200, await channels.stop(id(ctx)));
  });
  r.on('POST', '/api/v1/channels/:id/reset', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    await channel(ctx, 200, await channels.reset(id(ctx)));
  });
  r.on('GET', '/api/v1/channels/:id/events', async (ctx) =>
    sendJson(ctx.res, 200, await channels.events(id(ctx), page(ctx))),
  );
  r.on('GET', '/api/v1/channels/:id/stats', async (ctx) => {
    const c = await channels.get(id(ctx));
    if (!stats) throw new OnairError('unavailable', 'live statistics are not available');
    const body: ChannelStats = { channelId: c.id, state: c.state, ...stats(c.id) };
    sendJson(ctx.res, 200, body);
  });

  const program = async (ctx: RouteContext, status: number, rec: ProgramRecord) =>
    sendJson(ctx.res, status, await programs.view(rec, baseUrl(ctx)));
  const asset = (ctx: RouteContext, status: number, rec: AssetRecord) =>
    sendJson(ctx.res, status, assets.view(rec, baseUrl(ctx)));

  r.on('POST', '/api/v1/channels/:id/ingest/switch', async (ctx) => {
    const c = await channels.get(id(ctx));
    const body = parseWith(SwitchSchema, await readJson(ctx.req, { allowEmpty: true }));
    if (!ingest) throw new OnairError('unavailable', 'this server runs no media');
    if (c.state !== 'running') throw new OnairError('channel_not_running', `channel is ${c.state}`);
    sendJson(ctx.res, 200, { active: ingest.switchInput(c.id, body.to) });
  });
  r.on('GET', '/api/v1/channels/:id/slate', async (ctx) => {
    const c = await channels.get(id(ctx));
    const file = ingest?.slateImage(c.id);
    if (!file) throw new OnairError('not_found', 'no slate');
    const image = await readFile(file);
    ctx.res
      .writeHead(200, {
        'Content-Type': file.endsWith('.jpg') ? 'image/jpeg' : 'image/png',
        'Content-Length': image.length,
        'Cache-Control': 'no-store',
      })
      .end(image);
  });
  r.on('PUT', '/api/v1/channels/:id/slate', async (ctx) => {
    const c = await channels.get(id(ctx));
    const type = mediaType(ctx.req);
    if (type !== 'image/png' && type !== 'image/jpeg') {
      throw new OnairError('unsupported_media_type', 'send the slate as image/png or image/jpeg');
    }
    const image = await readBody(ctx.req, SLATE_MAX_BYTES);
    if (!ingest) throw new OnairError('unavailable', 'this server runs no media');
    await ingest.setSlateImage(c.id, image);
    ctx.res.writeHead(204).end();
  });
  r.on('DELETE', '/api/v1/channels/:id/slate', async (ctx) => {
    const c = await channels.get(id(ctx));
    await ingest?.deleteSlateImage(c.id);
    ctx.res.writeHead(204).end();
  });

  r.on('GET', '/api/v1/channels/:id/programs', async (ctx) => {
    const p = await programs.list(id(ctx), page(ctx));
    const items = await Promise.all(p.items.map((x) => programs.view(x, baseUrl(ctx))));
    sendJson(ctx.res, 200, { ...p, items });
  });
  r.on('POST', '/api/v1/channels/:id/programs', async (ctx) => {
    await channels.get(id(ctx));
    const body = await readJson(ctx.req);
    await program(ctx, 201, await programs.create(id(ctx), body));
  });
  r.on('GET', '/api/v1/programs/:id', async (ctx) => program(ctx, 200, await programs.get(id(ctx))));
  r.on('DELETE', '/api/v1/programs/:id', async (ctx) => {
    await programs.delete(id(ctx));
    ctx.res.writeHead(204).end();
  });
  r.on('POST', '/api/v1/programs/:id/start', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    await program(ctx, 200, await programs.start(id(ctx)));
  });
  r.on('POST', '/api/v1/programs/:id/stop', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    await program(ctx, 200, await programs.stop(id(ctx)));
  });
  r.on('POST', '/api/v1/programs/:id/clips', async (ctx) => {
    await programs.get(id(ctx));
    const body = await readJson(ctx.req);
    asset(ctx, 201, await programs.clip(id(ctx), body));
  });

  r.on('GET', '/api/v1/assets', async (ctx) => {
    const p = await assets.list(page(ctx));
    sendJson(ctx.res, 200, { ...p, items: p.items.map((a) => assets.view(a, baseUrl(ctx))) });
  });
  r.on('GET', '/api/v1/assets/:id', async (ctx) => asset(ctx, 200, await assets.get(id(ctx))));
  r.on('PATCH', '/api/v1/assets/:id', async (ctx) => {
    await assets.get(id(ctx));
    const body = await readJson(ctx.req);
    asset(ctx, 200, await assets.patch(id(ctx), body));
  });
  r.on('DELETE', '/api/v1/assets/:id', async (ctx) => {
    await assets.delete(id(ctx));
    ctx.res.writeHead(204).end();
  });

  if (playbackTokens) addPlaybackRoutes(r, { control, baseUrl, tokens: playbackTokens });
  if (webhooks) addWebhookRoutes(r, webhooks);
  return r;
}

/** Playback tokens: minted per channel (or one program or asset of it), revoked all at once. */
function addPlaybackRoutes(
  r: Router,
  {
    control,
    baseUrl,
    tokens,
  }: { control: ControlPlane; baseUrl: ApiDeps['baseUrl']; tokens: PlaybackTokens },
): void {
  r.on('POST', '/api/v1/channels/:id/playback-tokens', async (ctx) => {
    const c = await control.channels.get(ctx.params.id ?? '');
    const body = parseWith(PlaybackTokenCreateSchema, await readJson(ctx.req, { allowEmpty: true }));
    if (body.programId && body.assetId) {
      throw OnairError.validation('assetId', 'name a program or an asset, not both');
    }
    if (body.programId && (await control.programs.get(body.programId)).channelId !== c.id) {
      throw OnairError.validation('programId', 'is a program of another channel');
    }
    if (body.assetId && (await control.assets.get(body.assetId)).channelId !== c.id) {
      throw OnairError.validation('assetId', 'is an asset of another channel');
    }
    const expiresAt = new Date(Date.now() + body.expiresInSeconds * 1000);
    const scope = { channelId: c.id, programId: body.programId, assetId: body.assetId };
    const token = tokens.mint(scope, expiresAt);
    const base = baseUrl(ctx);
    const t = encodeURIComponent(token);
    // The token rides in the path: playlists and MPDs list relative URIs, which stay under it.
    const media = body.programId
      ? `${base}/programs/${body.programId}/t/${t}`
      : body.assetId
        ? `${base}/vod/${body.assetId}/t/${t}`
        : `${base}/live/${c.id}/t/${t}`;
    const pagePath = body.programId
      ? `programs/${body.programId}`
      : body.assetId
        ? `assets/${body.assetId}`
        : c.id;
    const reply: PlaybackToken = {
      token,
      channelId: c.id,
      ...(body.programId ? { programId: body.programId } : {}),
      ...(body.assetId ? { assetId: body.assetId } : {}),
      expiresAt: expiresAt.toISOString(),
      urls: {
        hls: `${media}/master.m3u8`,
        dash: `${media}/manifest.mpd`,
        watch: `${base}/watch/${pagePath}?token=${t}`,
        embed: `${base}/embed/${pagePath}?token=${t}`,
      },
    };
    sendJson(ctx.res, 201, reply);
  });
  r.on('POST', '/api/v1/playback-secret/rotate', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    tokens.rotate();
    sendJson(ctx.res, 200, { rotatedAt: new Date().toISOString() });
  });
}

function addWebhookRoutes(r: Router, webhooks: Webhooks): void {
  r.on('GET', '/api/v1/webhooks', async (ctx) => {
    const items = await webhooks.list();
    sendJson(ctx.res, 200, { items, total: items.length, limit: items.length, offset: 0 });
  });
  r.on('POST', '/api/v1/webhooks', async (ctx) => {
    const w = await webhooks.create(await readJson(ctx.req));
    sendJson(ctx.res, 201, await webhooks.view(w));
  });
  r.on('GET', '/api/v1/webhooks/:id', async (ctx) =>
    sendJson(ctx.res, 200, await webhooks.view(await webhooks.require(ctx.params.id ?? ''))),
  );
  r.on('DELETE', '/api/v1/webhooks/:id', async (ctx) => {
    await webhooks.delete(ctx.params.id ?? '');
    ctx.res.writeHead(204).end();
  });
  r.on('GET', '/api/v1/webhooks/:id/deliveries', async (ctx) =>
    sendJson(ctx.res, 200, await webhooks.deliveries(ctx.params.id ?? '', page(ctx))),
  );
  r.on('POST', '/api/v1/webhooks/:id/ping', async (ctx) => {
    await webhooks.require(ctx.params.id ?? '');
    await readJson(ctx.req, { allowEmpty: true });
    sendJson(ctx.res, 202, await webhooks.ping(ctx.params.id ?? ''));
  });
}
