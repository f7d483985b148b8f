/**
 * The listeners that take RTMP and SRT publishers for every running channel: one RTMP/RTMPS server
 * the channels share (a stream key finds its channel), and an SRT listener on each channel's own
 * port per input. The runtime starts them; what a publisher becomes is the channel's business
 * (`attach`).
 */
import { readFileSync } from 'node:fs';
import type { IngestRole } from '../../lib/schemas.ts';
import type { Config } from '../config.ts';
import { isAllowed } from '../http/allow-list.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { MediaSource } from '../media/source.ts';
import type { RtmpChannelIngest } from './rtmp-ingest.ts';
import { RtmpServer } from './rtmp-server.ts';
import { SrtListener } from './srt-listener.ts';

export interface RtmpListener {
  server: RtmpServer | undefined;
  /** Resolves once it listens (or has failed to start: RTMP ingest is then off, and the log says so). */
  listening: Promise<void>;
}

/** Starts the RTMP/RTMPS listener when either is on; `channelFor` finds a stream key's channel or rejects. */
export function startRtmpListener(
  cfg: Config,
  log: Logger,
  channelFor: (key: string, address: string) => Promise<RtmpChannelIngest>,
): RtmpListener {
  if (cfg.rtmpPort <= 0 && !cfg.rtmps) return { server: undefined, listening: Promise.resolve() };
  let tls: { port: number; cert: Buffer; key: Buffer } | undefined;
  if (cfg.rtmps) {
    try {
      tls = {
        port: cfg.rtmps.port,
        cert: readFileSync(cfg.rtmps.certFile),
        key: readFileSync(cfg.rtmps.keyFile),
      };
    } catch (err) {
      log.error({ err }, 'the RTMPS certificate or key cannot be read: RTMPS is off');
    }
  }
  const server = new RtmpServer({
    host: cfg.host,
    port: cfg.rtmpPort,
    ...(tls ? { tls } : {}),
    failureLimitPerMinute: cfg.authFailureLimit,
    pendingPerAddress: cfg.rtmpPendingPerAddress,
    pendingMax: cfg.rtmpPendingMax,
    log: log.child({ component: 'rtmp' }),
    hub: { channelFor },
  });
  const listening = server.listen().then(
    () => log.info({ ...server.ports }, 'RTMP ingest listening'),
    (err: unknown) => log.error({ err }, 'the RTMP listener could not start: RTMP ingest is off'),
  );
  return { server, listening };
}

/** What an SRT listener needs of its channel. */
export interface SrtChannel {
  id: string;
  mode: string;
  streamKey: string;
  /** The ingest allow-list (CIDRs; empty: anyone with the key). */
  ingest: readonly string[];
  srtPort: number | null;
  srtBackupPort: number | null;
  srtLatencyMs: number;
}

/** The channel's SRT listeners, one per input with a port, when SRT is on (none for passthrough-abr). */
export function startSrtListeners(
  cfg: Config,
  channel: SrtChannel,
  attach: (source: MediaSource, role: IngestRole) => void,
  children: ChildRegistry,
  log: Logger,
): SrtListener[] {
  if (!cfg.srtPortRange || channel.mode === 'passthrough-abr') return [];
  const ports: [IngestRole, number | null][] = [
    ['primary', channel.srtPort],
    ['backup', channel.srtBackupPort],
  ];
  return ports.flatMap(([role, port]) => {
    if (port === null) return [];
    const srt = new SrtListener({
      host: cfg.host,
      port,
      role,
      passphrase: channel.streamKey,
      allowed: (address) => isAllowed(channel.ingest, address),
      latencyMs: channel.srtLatencyMs,
      transmitPath: cfg.srtTransmitPath,
      ffmpegPath: cfg.ffmpegPath,
      log: log.child({ component: 'srt', role }),
      children,
      attach,
      failureLimitPerMinute: cfg.authFailureLimit,
    });
    srt.start();
    return [srt];
  });
}
