/**
 * The streaming origin (dynamic packaging, as a streaming endpoint does):
 *
 *   /live/:channelId/…      the channel's live window
 *   /programs/:programId/…  a running program's DVR window; once stopped, its recording
 *   /vod/:assetId/…         an asset on demand, its poster and its download
 *   /time                   the clock DASH players sync to
 *
 * Each is one PlaybackSource served by servePlayback(). The preview allow-list
 * of the channel applies to all of them (an asset's: its channel's when it was
 * made); unpublished assets answer 404. When the playback is `token`, each needs
 * a playback token, carried in the
 * path right after the id (`/live/:channelId/t/:token/master.m3u8`) so every
 * relative URI of the playlists and MPD stays under it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelState, PlaybackMode } from '../../lib/schemas.ts';
import { isAllowed } from '../http/allow-list.ts';
import { clientAddress, sendText } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import type { FileCache } from './file-cache.ts';
import type { Renderings } from './renderings.ts';
import { CORS, NO_CACHE, servePlayback, type PlaybackContext, type PlaybackSource } from './playback.ts';

/** What the origin needs of a channel's settings. */
export interface OriginChannelInfo {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly state: ChannelState;
  readonly preview: readonly string[];
  readonly segmentSeconds: number;
  readonly playback: PlaybackMode;
}

/** What a request asks to watch: a channel, or one program or asset of it. */
export interface PlaybackScope {
  channelId: string;
  programId?: string;
  assetId?: string;
}

/** Throws an OnairError (401/403) unless `token` lets its bearer watch `scope`. */
export type VerifyPlayback = (token: string | undefined, scope: PlaybackScope) => void;

/** A running channel, as the origin reads it: its settings snapshot and its live window. */
export interface OriginChannel {
  readonly info: OriginChannelInfo;
  readonly live: boolean;
  readonly playback: PlaybackSource;
}

/** Public facts about a program or an asset, for watch pages (`info.json`). */
export interface PlayableInfo {
  id: string;
  kind: 'program' | 'asset';
  name: string;
  channelId: string;
  /** `live`: a running program (DVR); `recorded`: on demand. */
  state: 'live' | 'recorded';
  durationSeconds: number;
  /** Program time of the start of the recording (ISO), when known. */
  startedAt: string | null;
}

/** A program or an asset, ready to serve: who may watch it, and what. */
export interface Playable {
  /** The preview allow-list (empty: anyone): the channel's, or an asset's own copy of it. */
  readonly preview: readonly string[];
  /** `token` asks every request for a playback token: the channel's, or an asset's own copy. */
  readonly playback: PlaybackMode;
  readonly source: PlaybackSource;
  readonly info: PlayableInfo;
}

async function servePlayable(
  req: IncomingMessage,
  res: ServerResponse,
  playable: Playable,
  r: Route,
  deps: OriginDeps,
  scope: PlaybackScope,
): Promise<void> {
  checkPreview(req, playable.preview);
  if (redirectQueryToken(res, r)) return;
  checkToken(deps, playable.playback, r.token, scope);
  const rest = r.rest;
  if (rest === 'info.json') {
    sendText(res, 200, JSON.stringify(playable.info), 'application/json; charset=utf-8', NO_CACHE);
    return;
  }
  await servePlayback(req, res, playable.source, rest, context(req, r, deps));
}

export interface OriginDeps {
  /** A running channel, from memory: no database read on the media path. */
  getLive(id: string): OriginChannel | undefined;
  /** A channel that is not running (rare: offline players polling), from the store. */
  getOffline(id: string): Promise<OriginChannelInfo | undefined>;
  /** A program: its DVR window while it runs, its recording after. */
  getProgram(id: string): Promise<Playable | undefined>;
  /** A published asset. */
  getAsset(id: string): Promise<Playable | undefined>;
  publicUrl: (req: IncomingMessage) => string;
  /** Checks playback tokens of channels whose playback is `token` (none: such channels serve nothing). */
  verifyPlayback?: VerifyPlayback;
  /** Hot segments and parts in memory. */
  cache?: FileCache;
  /** Playlists and MPDs rendered once per timeline change. */
  renderings: Renderings;
}

function context(req: IncomingMessage, r: Route, deps: OriginDeps): PlaybackContext {
  return {
    utcTimingUrl: () => `${deps.publicUrl(req)}/time`,
    renderings: deps.renderings,
    query: r.url.searchParams,
    ...(deps.cache ? { cache: deps.cache } : {}),
  };
}

function preflight(res: ServerResponse): void {
  res
    .writeHead(204, {
      ...CORS,
      'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
      'Access-Control-Allow-Headers': 'Range',
      'Access-Control-Max-Age': '600',
    })
    .end();
}

/** A media request: `/<prefix>/<id>/[t/<token>/]<rest>`. */
interface Route {
  prefix: string;
  id: string;
  token: string | undefined;
  rest: string;
  url: URL;
}

const routePatterns = new Map<string, RegExp>();
function routePattern(prefix: string): RegExp {
  let re = routePatterns.get(prefix);
  if (!re) {
    re = new RegExp(`^${prefix}/([^/]+)/(?:t/([^/]+)/)?(.+)$`);
    routePatterns.set(prefix, re);
  }
  return re;
}

/** `/<prefix>/<id>/[t/<token>/]<rest>` of a GET or HEAD; answers OPTIONS itself (returns undefined). */
function route(req: IncomingMessage, res: ServerResponse, url: URL, prefix: string): Route | undefined {
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') {
    preflight(res);
    return undefined;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    throw new OnairError('method_not_allowed', 'the origin serves GET and HEAD');
  }
  const m = routePattern(prefix).exec(url.pathname);
  if (!m) throw new OnairError('not_found', 'not found');
  return { prefix, id: decodeURIComponent(m[1]!), token: m[2], rest: m[3]!, url };
}

/**
 * `?token=` is accepted for convenience: answers 302 to the path form, which
 * keeps the token in every relative URI. True when it answered.
 */
function redirectQueryToken(res: ServerResponse, r: Route): boolean {
  const token = r.url.searchParams.get('token');
  if (r.token !== undefined || !token) return false;
  const q = new URLSearchParams(r.url.searchParams);
  q.delete('token');
  const tail = q.size > 0 ? `?${q.toString()}` : '';
  const location = `${r.prefix}/${encodeURIComponent(r.id)}/t/${encodeURIComponent(token)}/${r.rest}${tail}`;
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', ...CORS }).end();
  return true;
}

function checkToken(
  deps: OriginDeps,
  playback: PlaybackMode,
  token: string | undefined,
  scope: PlaybackScope,
): void {
  if (playback !== 'token') return;
  if (!deps.verifyPlayback) throw new OnairError('forbidden', 'playback tokens are not available');
  deps.verifyPlayback(token, scope);
}

function checkPreview(req: IncomingMessage, preview: readonly string[]): void {
  if (!isAllowed(preview, clientAddress(req))) {
    throw new OnairError('forbidden', "your address is not in the channel's preview allow-list");
  }
}

export function liveMount(deps: OriginDeps): MediaMount {
  return {
    prefix: '/live',
    async handle(req, res, url): Promise<void> {
      const r = route(req, res, url, '/live');
      if (!r) return;
      const { id: channelId, rest } = r;
      const live = deps.getLive(channelId);
      const channel = live?.info ?? (await deps.getOffline(channelId));
      if (!channel) throw new OnairError('channel_not_found', 'no such channel');
      checkPreview(req, channel.preview);
      if (redirectQueryToken(res, r)) return;
      checkToken(deps, channel.playback, r.token, { channelId: channel.id });
      if (rest === 'channel.json') {
        // Public facts for the watch page; never the stream key.
        const body = JSON.stringify({
          id: channel.id,
          name: channel.name,
          description: channel.description,
          state: channel.state,
          live: live?.live ?? false,
        });
        sendText(res, 200, body, 'application/json; charset=utf-8', NO_CACHE);
        return;
      }
      if (!live) {
        if (rest === 'thumbnail.jpg') throw new OnairError('not_found', 'no thumbnail yet');
        throw new OnairError('channel_not_running', 'channel is offline');
      }
      await servePlayback(req, res, live.playback, rest, context(req, r, deps));
    },
  };
}

/** /programs/<id>/… and /vod/<id>/…: a program's DVR window or recording, an asset on demand. */
function playableMount(prefix: '/programs' | '/vod', deps: OriginDeps): MediaMount {
  const program = prefix === '/programs';
  return {
    prefix,
    async handle(req, res, url): Promise<void> {
      const r = route(req, res, url, prefix);
      if (!r) return;
      const playable = await (program ? deps.getProgram(r.id) : deps.getAsset(r.id));
      if (!playable) throw OnairError.notFound(program ? 'program' : 'asset', r.id);
      const scope = program ? { programId: r.id } : { assetId: r.id };
      await servePlayable(req, res, playable, r, deps, { channelId: playable.info.channelId, ...scope });
    },
  };
}

export const programsMount = (deps: OriginDeps): MediaMount => playableMount('/programs', deps);
export const vodMount = (deps: OriginDeps): MediaMount => playableMount('/vod', deps);

/** GET /time: the clock DASH players sync to (UTCTiming urn:mpeg:dash:utc:http-iso:2014). */
export function timeMount(): MediaMount {
  return {
    prefix: '/time',
    handle(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      sendText(res, 200, new Date().toISOString(), 'text/plain; charset=utf-8', {
        'Cache-Control': 'no-store',
        ...CORS,
      });
      return Promise.resolve();
    },
  };
}
