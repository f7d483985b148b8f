/** /api/v1: thin handlers over the control plane. */
import { PageQuerySchema } from '../../lib/schemas.ts';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelLiveStats, ChannelStats } from '../../lib/stats.ts';
import { parseWith } from '../../lib/validate.ts';
import type { ControlPlane } from '../core/control-plane.ts';
import { readJson, sendJson } from '../http/http.ts';
import { Router, type RouteContext } from './router.ts';

export interface ApiDeps {
  control: ControlPlane;
  baseUrl: (ctx: RouteContext) => string;
  /** Live figures of a channel (ingest, encoder, output); added by the media runtime. */
  stats?: (channelId: string) => ChannelLiveStats;
}

function page(ctx: RouteContext) {
  return parseWith(PageQuerySchema, Object.fromEntries(ctx.url.searchParams));
}

export function buildApiRouter({ control, baseUrl, stats }: ApiDeps): Router {
  const r = new Router();
  const channel = (ctx: RouteContext, status: number, rec: Parameters<ControlPlane['channelView']>[0]) =>
    sendJson(ctx.res, status, control.channelView(rec, baseUrl(ctx)));
  const id = (ctx: RouteContext) => ctx.params.id ?? '';

  r.on('GET', '/api/v1/channels', (ctx) => {
    const p = control.listChannels(page(ctx));
    sendJson(ctx.res, 200, { ...p, items: p.items.map((c) => control.channelView(c, baseUrl(ctx))) });
  });
  r.on('POST', '/api/v1/channels', async (ctx) => {
    const rec = control.createChannel(await readJson(ctx.req));
    channel(ctx, 201, rec);
  });
  r.on('GET', '/api/v1/channels/:id', (ctx) => channel(ctx, 200, control.requireChannel(id(ctx))));
  r.on('PATCH', '/api/v1/channels/:id', async (ctx) => {
    control.requireChannel(id(ctx)); // an unknown id is a 404 whatever the body
    const body = await readJson(ctx.req);
    channel(ctx, 200, control.patchChannel(id(ctx), body));
  });
  r.on('DELETE', '/api/v1/channels/:id', async (ctx) => {
    await control.deleteChannel(id(ctx));
    ctx.res.writeHead(204).end();
  });
  r.on('POST', '/api/v1/channels/:id/start', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    channel(ctx, 200, await control.startChannel(id(ctx)));
  });
  r.on('POST', '/api/v1/channels/:id/stop', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    channel(ctx, 200, await control.stopChannel(id(ctx)));
  });
  r.on('POST', '/api/v1/channels/:id/reset', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    channel(ctx, 200, await control.resetChannel(id(ctx)));
  });
  r.on('GET', '/api/v1/channels/:id/events', (ctx) =>
    sendJson(ctx.res, 200, control.listEvents(id(ctx), page(ctx))),
  );
  r.on('GET', '/api/v1/channels/:id/stats', (ctx) => {
    const c = control.requireChannel(id(ctx));
    if (!stats) throw new OnairError('unavailable', 'live statistics are not available');
    const body: ChannelStats = { channelId: c.id, state: c.state, ...stats(c.id) };
    sendJson(ctx.res, 200, body);
  });

  const program = (ctx: RouteContext, status: number, rec: Parameters<ControlPlane['programView']>[0]) =>
    sendJson(ctx.res, status, control.programView(rec, baseUrl(ctx)));
  const asset = (ctx: RouteContext, status: number, rec: Parameters<ControlPlane['assetView']>[0]) =>
    sendJson(ctx.res, status, control.assetView(rec, baseUrl(ctx)));

  r.on('GET', '/api/v1/channels/:id/programs', (ctx) => {
    const p = control.listPrograms(id(ctx), page(ctx));
    sendJson(ctx.res, 200, { ...p, items: p.items.map((x) => control.programView(x, baseUrl(ctx))) });
  });
  r.on('POST', '/api/v1/channels/:id/programs', async (ctx) => {
    control.requireChannel(id(ctx));
    const body = await readJson(ctx.req);
    program(ctx, 201, control.createProgram(id(ctx), body));
  });
  r.on('GET', '/api/v1/programs/:id', (ctx) => program(ctx, 200, control.requireProgram(id(ctx))));
  r.on('DELETE', '/api/v1/programs/:id', (ctx) => {
    control.deleteProgram(id(ctx));
    ctx.res.writeHead(204).end();
  });
  r.on('POST', '/api/v1/programs/:id/start', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    program(ctx, 200, control.startProgram(id(ctx)));
  });
  r.on('POST', '/api/v1/programs/:id/stop', async (ctx) => {
    await readJson(ctx.req, { allowEmpty: true });
    program(ctx, 200, control.stopProgram(id(ctx)));
  });
  r.on('POST', '/api/v1/programs/:id/clips', async (ctx) => {
    control.requireProgram(id(ctx));
    const body = await readJson(ctx.req);
    asset(ctx, 201, await control.createClip(id(ctx), body));
  });

  r.on('GET', '/api/v1/assets', (ctx) => {
    const p = control.listAssets(page(ctx));
    sendJson(ctx.res, 200, { ...p, items: p.items.map((a) => control.assetView(a, baseUrl(ctx))) });
  });
  r.on('GET', '/api/v1/assets/:id', (ctx) => asset(ctx, 200, control.requireAsset(id(ctx))));
  r.on('PATCH', '/api/v1/assets/:id', async (ctx) => {
    control.requireAsset(id(ctx));
    const body = await readJson(ctx.req);
    asset(ctx, 200, control.patchAsset(id(ctx), body));
  });
  r.on('DELETE', '/api/v1/assets/:id', async (ctx) => {
    await control.deleteAsset(id(ctx));
    ctx.res.writeHead(204).end();
  });
  return r;
}
