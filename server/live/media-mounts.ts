/**
 * The media endpoints of the runtime, wired to the running channels: WHIP publishes into a
 * channel's hub, WHEP watches it, the origin serves live channels, programs and assets (/live,
 * /programs, /vod) and the clock (/time).
 */
import type { IncomingMessage } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { Config } from '../config.ts';
import { lostAccess, whepMount, type VerifyViewer } from '../egress/whep-endpoint.ts';
import { publicBaseUrl } from '../http/http.ts';
import type { MediaMount } from '../http/mount.ts';
import { whipMount } from '../ingest/whip-endpoint.ts';
import type { FileCache } from '../origin/file-cache.ts';
import {
  liveMount,
  programsMount,
  timeMount,
  vodMount,
  type OriginChannel,
  type OriginChannelInfo,
  type PlaybackScope,
} from '../origin/origin.ts';
import type { Renderings } from '../origin/renderings.ts';
import type { ChannelRecord, Store } from '../store/store.ts';
import type { ChannelHub } from './channel-hub.ts';
import type { Playables } from './playables.ts';

/** Checks a playback token (throws 401/403) and says what it grants: the origin's check and WHEP's. */
export type CheckPlayback = (token: string | undefined, scope: PlaybackScope) => ReturnType<VerifyViewer>;

export interface MediaMountsDeps {
  store: Store;
  config: Config;
  /** A running channel's hub and origin view. */
  running(channelId: string): { hub: ChannelHub; origin: OriginChannel } | undefined;
  playables: Playables;
  cache: FileCache;
  renderings: Renderings;
  verifyPlayback?: CheckPlayback;
}

export function mediaMounts(deps: MediaMountsDeps): MediaMount[] {
  const { store, config } = deps;
  const offline = async (id: string): Promise<OriginChannelInfo | undefined> => {
    const c: ChannelRecord | undefined = await store.channels.get(id);
    return c
      ? {
          id: c.id,
          name: c.name,
          description: c.description,
          state: c.state,
          preview: c.preview,
          segmentSeconds: c.segmentSeconds,
          playback: c.playback,
        }
      : undefined;
  };
  const origin = {
    getLive: (id: string) => deps.running(id)?.origin,
    getOffline: offline,
    getProgram: (id: string) => deps.playables.program(id),
    getAsset: (id: string) => deps.playables.asset(id),
    publicUrl: (req: IncomingMessage) => publicBaseUrl(config, req),
    verifyPlayback: deps.verifyPlayback,
    cache: deps.cache,
    renderings: deps.renderings,
  };
  return [
    whipMount(
      {
        getChannel: async (id) => {
          const running = deps.running(id);
          if (running) return { ...running.hub.config, state: 'running' };
          return store.channels.get(id);
        },
        publish: (channelId, offer, summary, role) => {
          const running = deps.running(channelId);
          if (!running) throw new OnairError('channel_not_running', 'channel is not running');
          if (running.hub.config.mode === 'passthrough-abr') {
            throw new OnairError(
              'unsupported_offer',
              'a multi-bitrate passthrough channel is fed over RTMP, one stream per rendition',
            );
          }
          return running.hub.publish(offer, summary, role);
        },
        findSession: (channelId, sessionId) => deps.running(channelId)?.hub.findSession(sessionId),
      },
      { iceServers: config.iceServers, rateLimitPerMinute: config.whipRateLimitPerMinute },
    ),
    whepMount(
      {
        getChannel: async (id) => {
          const running = deps.running(id);
          if (running) return running.origin.info;
          return store.channels.get(id);
        },
        watch: (channelId, offer, summary, admission) => {
          const running = deps.running(channelId);
          if (!running) throw new OnairError('channel_not_running', 'channel is not running');
          return running.hub.watch(offer, summary, {
            ...(admission.grant ? { expiresAt: admission.grant.expiresAt } : {}),
            lost: () => lostAccess(running.origin.info, admission, deps.verifyPlayback),
          });
        },
        findSession: (channelId, sessionId) => deps.running(channelId)?.hub.findViewer(sessionId),
      },
      {
        iceServers: config.iceServers,
        rateLimitPerMinute: config.whepRateLimitPerMinute,
        ...(deps.verifyPlayback ? { verifyPlayback: deps.verifyPlayback } : {}),
      },
    ),
    liveMount(origin),
    programsMount(origin),
    vodMount(origin),
    timeMount(),
  ];
}
