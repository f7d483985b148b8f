/**
 * A running channel, made when it starts: its live output (recovered from the journal after a
 * restart, once FFmpeg processes left from before have finished), the hub that wires its source,
 * router, encoder and output, its RTMP and SRT ingest, and the origin's view of it.
 */
import path from 'node:path';
import type { ChannelEventType } from '../../lib/events.ts';
import type { Config } from '../config.ts';
import type { ChannelConfig } from '../core/runtime.ts';
import { startSrtListeners } from '../ingest/ingest-listeners.ts';
import { RtmpChannelIngest } from '../ingest/rtmp-ingest.ts';
import type { SrtListener } from '../ingest/srt-listener.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { OriginChannel, OriginChannelInfo } from '../origin/origin.ts';
import { LiveOutput } from '../packager/live-output.ts';
import type { SfuEngine } from '../sfu/engine.ts';
import { SlateSource } from '../source/slate-source.ts';
import type { Store } from '../store/store.ts';
import { awaitOrphanedRuns } from '../transcode/ffmpeg-run.ts';
import { EncoderSupervisor } from '../transcode/supervisor.ts';
import { Thumbnailer } from '../transcode/thumbnail.ts';
import { ChannelHub } from './channel-hub.ts';
import { LivePlayback } from '../origin/playback-sources.ts';
import { StoreTimelineJournal, savedTimeline } from './timeline-journal.ts';

export interface RunningChannel {
  hub: ChannelHub;
  journal: StoreTimelineJournal;
  origin: OriginChannel;
  rtmp: RtmpChannelIngest;
  /** The SRT listeners of the primary and backup inputs (none when SRT is off). */
  srt: SrtListener[];
}

export interface RunningChannelDeps {
  store: Store;
  config: Config;
  log: Logger;
  /** The channel's view of the child-process owner. */
  children: ChildRegistry;
  engine: SfuEngine;
  event: (type: ChannelEventType, message: string) => void;
  /** The channel's slate picture, read when a slate starts. */
  slateImage(): string;
}

/** The channel's SRT listeners on its own ports, when SRT is on and the channel has ports. */
export function srtListeners(
  cfg: Config,
  config: ChannelConfig,
  hub: ChannelHub,
  children: ChildRegistry,
  log: Logger,
): SrtListener[] {
  // The allow-list is read at each caller: a PATCH to a running channel applies at once (as for RTMP).
  const channel = {
    ...config,
    get ingest() {
      return hub.config.ingest;
    },
  };
  return startSrtListeners(cfg, channel, (source, role) => hub.attach(source, role), children, log);
}

export async function openRunningChannel(
  config: ChannelConfig,
  deps: RunningChannelDeps,
): Promise<RunningChannel> {
  const { config: cfg, log, store, children } = deps;
  const channelDir = path.join(cfg.mediaDir, config.id);
  const liveDir = path.join(channelDir, 'live');
  const channelLog = log.child({ channelId: config.id });
  // After a crash, FFmpeg may still be finishing segments: they belong to the recording.
  const orphans = await awaitOrphanedRuns(liveDir);
  if (orphans > 0) channelLog.info({ orphans }, 'waited for encoders left from before the restart');
  const journal = new StoreTimelineJournal(store, config.id, channelLog);
  const saved = await store.timelines.load(config.id);
  let startedAt = await store.timelines.outputStartedAt(config.id);
  if (startedAt === undefined) {
    startedAt = Date.now();
    await store.timelines.setOutputStartedAt(config.id, startedAt);
  }
  const output = new LiveOutput({
    liveDir,
    liveWindowSegments: cfg.liveWindowSegments,
    segmentSeconds: config.segmentSeconds,
    log: channelLog,
    journal,
    restore: savedTimeline(saved),
    startedAt,
  });
  await output.recover();
  await journal.flush();
  const hub = new ChannelHub({
    config,
    router: deps.engine.createRouter(config.id),
    createEncoder: (hooks) =>
      new EncoderSupervisor({ ffmpegPath: cfg.ffmpegPath, liveDir, log: channelLog, children, hooks }),
    output,
    thumbnails: new Thumbnailer(
      { ffmpegPath: cfg.ffmpegPath, children },
      path.join(channelDir, 'thumbnail.jpg'),
    ),
    log: channelLog,
    event: deps.event,
    createSlate: (codecs) =>
      new SlateSource({
        ffmpegPath: cfg.ffmpegPath,
        image: deps.slateImage(),
        video: codecs.video,
        audio: codecs.audio,
        log: channelLog,
        children,
      }),
    maxViewers: cfg.whepMaxViewers,
  });
  const rtmp = new RtmpChannelIngest({
    channelId: config.id,
    ffmpegPath: cfg.ffmpegPath,
    log: channelLog.child({ component: 'rtmp' }),
    children,
    mode: () => hub.config.mode,
    attach: (source, role) => hub.attach(source, role),
    current: () => hub.source,
  });
  const srt = srtListeners(cfg, config, hub, children, channelLog);
  const playback = new LivePlayback(hub, cfg.liveWindowSegments);
  const origin: OriginChannel = {
    get info(): OriginChannelInfo {
      return { ...hub.config, state: 'running' };
    },
    get live() {
      return hub.live;
    },
    playback,
  };
  return { hub, journal, origin, rtmp, srt };
}
