/**
 * The streaming origin: /live/:channelId/… serves HLS playlists and the DASH MPD
 * rendered from the channel's timeline (dynamic packaging), and the CMAF
 * segments themselves. Playlists are no-cache; segments are immutable.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { OnairError } from '../../lib/errors.ts';
import type { ChannelState, PlaybackMode } from '../../lib/schemas.ts';
import { isAllowed } from '../http/allow-list.ts';
import { clientAddress, sendText } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { renderDashMpd } from '../packager/dash.ts';
import { renderHlsMaster, renderHlsMediaPlaylist } from '../packager/hls.ts';
import type { LiveOutput } from '../packager/live-output.ts';

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

/** Throws an OnairError (401/403) unless `token` lets its bearer watch the channel. */
export type VerifyPlayback = (token: string | undefined, scope: { channelId: string }) => void;

/** A running channel, as the origin reads it: its settings snapshot and its output. */
export interface OriginChannel {
  readonly info: OriginChannelInfo;
  readonly output: LiveOutput;
  readonly live: boolean;
  /** The latest thumbnail JPEG, if one was made. */
  thumbnailPath(): string | undefined;
}

export interface OriginDeps {
  /** A running channel, from memory: no database read on the media path. */
  getLive(id: string): OriginChannel | undefined;
  /** A channel that is not running (rare: offline players polling), from the store. */
  getOffline(id: string): OriginChannelInfo | undefined;
  liveWindowSegments: number;
  publicUrl: (req: IncomingMessage) => string;
  /** Checks playback tokens of channels whose playback is `token` (none: such channels serve nothing). */
  verifyPlayback?: VerifyPlayback;
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length, Date' };
const NO_CACHE = { 'Cache-Control': 'no-cache', ...CORS };
const IMMUTABLE = { 'Cache-Control': 'public, max-age=31536000, immutable', ...CORS };
const SEGMENT_PATH = /^(r[a-z0-9]+)\/([a-z0-9]+)\/(init\.mp4|seg_\d{5,9}\.m4s)$/;
const TRACK_PLAYLIST = /^([a-z0-9]+)\.m3u8$/;

export function liveMount(deps: OriginDeps): MediaMount {
  return {
    prefix: '/live',
    async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS') {
        res
          .writeHead(204, {
            ...CORS,
            'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
            'Access-Control-Max-Age': '600',
          })
          .end();
        return;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        throw new OnairError('method_not_allowed', 'the origin serves GET and HEAD');
      }
      const m = /^\/live\/([^/]+)\/(?:t\/([^/]+)\/)?(.+)$/.exec(url.pathname);
      if (!m) throw new OnairError('not_found', 'not found');
      const channelId = m[1]!;
      const token = m[2];
      const rest = m[3]!;
      const live = deps.getLive(channelId);
      const channel = live?.info ?? deps.getOffline(channelId);
      if (!channel) throw new OnairError('channel_not_found', 'no such channel');
      if (!isAllowed(channel.preview, clientAddress(req))) {
        throw new OnairError('forbidden', "your address is not in the channel's preview allow-list");
      }
      const queryToken = url.searchParams.get('token');
      if (token === undefined && queryToken) {
        // `?token=` is accepted for convenience: the path form keeps it in every relative URI.
        const q = new URLSearchParams(url.searchParams);
        q.delete('token');
        const tail = q.size > 0 ? `?${q.toString()}` : '';
        const location = `/live/${encodeURIComponent(channelId)}/t/${encodeURIComponent(queryToken)}/${rest}${tail}`;
        res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', ...CORS }).end();
        return;
      }
      if (channel.playback === 'token') {
        if (!deps.verifyPlayback) throw new OnairError('forbidden', 'playback tokens are not available');
        deps.verifyPlayback(token, { channelId: channel.id });
      }
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
      if (rest === 'thumbnail.jpg') {
        const file = live?.thumbnailPath();
        if (!file) throw new OnairError('not_found', 'no thumbnail yet');
        await sendFile(req, res, file, 'image/jpeg', NO_CACHE);
        return;
      }
      if (!live) throw new OnairError('channel_not_running', 'channel is offline');
      const output = live.output;
      const timeline = output.timeline;
      const window = () => timeline.window({ maxSegments: deps.liveWindowSegments });
      // A publisher that left is not the end: players keep polling until it is back.
      const ended = output.ended;

      if (rest === 'master.m3u8') {
        const tracks = timeline.latestTracks();
        // A master listing only the renditions that happened to be ready would stay that way in players.
        if (!tracks.some((t) => t.kind === 'video') || tracks.length < output.expectedTracks) {
          throw new OnairError('not_found', 'the stream has not started yet');
        }
        sendText(res, 200, renderHlsMaster(tracks), 'application/vnd.apple.mpegurl', NO_CACHE);
        return;
      }
      if (rest === 'manifest.mpd') {
        const view = window();
        // A Period is published only once every track of it has a segment: dash.js
        // does not pick up an AdaptationSet that appears in a later refresh.
        const current = view.runs.at(-1);
        if (
          current &&
          current.id === timeline.latestRun()?.id &&
          current.tracks.size < output.expectedTracks
        ) {
          view.runs.pop();
        }
        if (view.runs.length === 0) throw new OnairError('not_found', 'the stream has not started yet');
        const seg = channel.segmentSeconds;
        const mpd = renderDashMpd(view, {
          availabilityStartTime: output.startedAt,
          publishTime: Date.now(),
          minimumUpdatePeriodSeconds: seg,
          timeShiftBufferDepthSeconds: deps.liveWindowSegments * seg,
          suggestedPresentationDelaySeconds: seg * 3,
          minBufferTimeSeconds: seg,
          utcTimingUrl: `${deps.publicUrl(req)}/time`,
          ended,
        });
        sendText(res, 200, mpd, 'application/dash+xml', NO_CACHE);
        return;
      }
      const pl = TRACK_PLAYLIST.exec(rest);
      if (pl) {
        const trackId = pl[1]!;
        const view = window();
        const has = view.runs.some((r) => (r.tracks.get(trackId)?.segments.length ?? 0) > 0);
        if (!has) throw new OnairError('not_found', 'no such rendition, or no segments yet');
        const body = renderHlsMediaPlaylist(view, trackId, {
          targetDuration: channel.segmentSeconds,
          ended,
        });
        sendText(res, 200, body, 'application/vnd.apple.mpegurl', NO_CACHE);
        return;
      }
      const sm = SEGMENT_PATH.exec(rest);
      if (!sm) throw new OnairError('not_found', 'not found');
      const file = path.join(output.liveDir, sm[1]!, sm[2]!, sm[3]!);
      // The regex admits no "..", so the file is always inside the channel's folder.
      await sendFile(req, res, file, sm[2] === 'audio' ? 'audio/mp4' : 'video/mp4', IMMUTABLE);
    },
  };
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  type: string,
  headers: Record<string, string>,
): Promise<void> {
  let size: number;
  try {
    const st = await stat(file);
    size = st.isFile() ? st.size : -1;
  } catch {
    size = -1;
  }
  if (size < 0) throw new OnairError('not_found', 'not found (a segment may have left the window)');
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': size, ...headers });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    stream.on('end', resolve);
    res.on('close', resolve);
    stream.pipe(res);
  });
}

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
