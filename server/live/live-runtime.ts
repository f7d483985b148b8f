/**
 * The media runtime: one ChannelPipeline per running channel, the SFU engine,
 * and the media endpoints (/whip, /live, /time). Implements what the control
 * plane needs (ChannelRuntime) and what the HTTP server mounts.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { OnairError } from '../../lib/errors.ts';
import type { MediaMount, MediaRuntime } from '../app.ts';
import type { Config } from '../config.ts';
import type { RecordingSummary } from '../core/runtime.ts';
import { publicBaseUrl } from '../api/http.ts';
import { whipMount } from '../ingest/whip-endpoint.ts';
import type { Logger } from '../log.ts';
import type { Sample } from '../observability/metrics.ts';
import { liveMount, timeMount } from '../packager/origin.ts';
import type { SfuEngine } from '../sfu/engine.ts';
import { WeriftEngine } from '../sfu/werift/werift-engine.ts';
import type { ChannelRecord, ProgramRecord, Store } from '../store/store.ts';
import { ChannelPipeline } from './channel-pipeline.ts';

export interface LiveRuntimeDeps {
  store: Store;
  config: Config;
  log: Logger;
  event: (channelId: string, type: string, message: string) => void;
  engine?: SfuEngine;
}

export class LiveRuntime implements MediaRuntime {
  readonly #deps: LiveRuntimeDeps;
  readonly #engine: SfuEngine;
  readonly #pipelines = new Map<string, ChannelPipeline>();
  #closed = false;

  constructor(deps: LiveRuntimeDeps) {
    this.#deps = deps;
    this.#engine =
      deps.engine ??
      new WeriftEngine({
        log: deps.log.child({ component: 'sfu' }),
        iceServers: deps.config.iceServers,
        publicIp: deps.config.publicIp,
        portRange: deps.config.rtcPortRange,
        loopbackOnly: deps.config.loopbackOnlyIce,
      });
  }

  startChannel(channel: ChannelRecord): Promise<void> {
    if (this.#pipelines.has(channel.id)) return Promise.resolve();
    const { config, log, store } = this.#deps;
    const pipeline = new ChannelPipeline(channel, {
      engine: this.#engine,
      ffmpegPath: config.ffmpegPath,
      mediaDir: config.mediaDir,
      liveWindowSegments: config.liveWindowSegments,
      log,
      event: (type, message) => this.#deps.event(channel.id, type, message),
      archiveWindowSeconds: () =>
        Math.max(
          0,
          ...store.programsOfChannel(channel.id, 'running').map((p) => p.archiveWindowMinutes * 60),
        ),
    });
    this.#pipelines.set(channel.id, pipeline);
    return Promise.resolve();
  }

  async stopChannel(channelId: string): Promise<void> {
    const p = this.#pipelines.get(channelId);
    if (!p) return;
    await p.close();
    this.#pipelines.delete(channelId);
  }

  async resetChannel(channel: ChannelRecord): Promise<void> {
    await this.#pipelines.get(channel.id)?.reset(channel);
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.stopChannel(channelId);
    await rm(path.join(this.#deps.config.mediaDir, channelId), { recursive: true, force: true });
  }

  updateChannel(channel: ChannelRecord): void {
    const p = this.#pipelines.get(channel.id);
    if (p) p.channel = channel;
  }

  isLive(channelId: string): boolean {
    return this.#pipelines.get(channelId)?.live ?? false;
  }

  programStarted(): void {}

  programStopped(program: ProgramRecord, assetId: string): RecordingSummary {
    const started = program.startedAt ? Date.parse(program.startedAt) : Date.now();
    // The archive window is what a program keeps: its last N minutes.
    const since = Math.max(started, Date.now() - program.archiveWindowMinutes * 60_000);
    const p = this.#pipelines.get(program.channelId);
    const recorded = p?.recordedSince(since, this.#assetDir(assetId));
    return {
      durationSeconds:
        recorded && recorded.durationSeconds > 0
          ? recorded.durationSeconds
          : Math.max(0, (Date.now() - started) / 1000),
      bytes: recorded?.bytes ?? 0,
    };
  }

  #assetDir(assetId: string): string {
    return path.join(this.#deps.config.mediaDir, 'assets', assetId);
  }

  async deleteAsset(assetId: string): Promise<void> {
    await rm(this.#assetDir(assetId), { recursive: true, force: true });
  }

  stats(channelId: string): unknown {
    const p = this.#pipelines.get(channelId);
    if (!p) return { live: false, ingest: null, encoder: null, output: null, history: [] };
    return p.stats();
  }

  metrics(): Sample[] {
    const ingest: Sample['values'] = [];
    const speed: Sample['values'] = [];
    const segments: Sample['values'] = [];
    for (const [id, p] of this.#pipelines) {
      const s = p.stats();
      ingest.push({ labels: { channel: id }, value: (s.ingest?.kbps ?? 0) * 1000 });
      speed.push({ labels: { channel: id }, value: s.encoder.speed ?? 0 });
      segments.push({ labels: { channel: id }, value: s.output.segments });
    }
    return [
      {
        name: 'onair_ingest_bitrate_bits',
        help: 'Bitrate received from the publisher, bits/s.',
        type: 'gauge',
        values: ingest,
      },
      {
        name: 'onair_encoder_speed',
        help: "FFmpeg's speed (1.0 = real time).",
        type: 'gauge',
        values: speed,
      },
      {
        name: 'onair_segments_written_total',
        help: 'Segments written by the encoder since the channel started.',
        type: 'counter',
        values: segments,
      },
      {
        name: 'onair_publishers_live',
        help: 'Channels with a connected publisher.',
        type: 'gauge',
        values: [{ value: [...this.#pipelines.values()].filter((p) => p.live).length }],
      },
    ];
  }

  mounts(): MediaMount[] {
    const { store, config } = this.#deps;
    return [
      whipMount(
        {
          getChannel: (id) => store.getChannel(id),
          publish: async (channel, offer, summary) => {
            const p = this.#pipelines.get(channel.id);
            if (!p) throw new OnairError('channel_not_running', 'channel is not running');
            return p.publish(offer, summary);
          },
          findSession: (channelId, sessionId) => this.#pipelines.get(channelId)?.findSession(sessionId),
        },
        { iceServers: config.iceServers, rateLimitPerMinute: config.whipRateLimitPerMinute },
      ),
      liveMount({
        getChannel: (id) => store.getChannel(id),
        getLive: (id) => this.#pipelines.get(id),
        liveWindowSegments: config.liveWindowSegments,
        publicUrl: (req: IncomingMessage) => publicBaseUrl(config, req),
      }),
      timeMount(),
    ];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#pipelines.values()].map((p) => p.close()));
    this.#pipelines.clear();
    await this.#engine.close();
  }
}

export function createLiveRuntime(deps: LiveRuntimeDeps): LiveRuntime {
  return new LiveRuntime(deps);
}
