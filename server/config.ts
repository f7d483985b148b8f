/**
 * Configuration is read once, from the environment, at start-up. Every variable,
 * its default and its meaning is listed in README.md ("Configuration").
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const SFU_ENGINES = ['auto', 'mediasoup', 'werift'] as const;
export type SfuEngineChoice = (typeof SFU_ENGINES)[number];

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be from 0 to 65535' })
    .max(65535, { error: 'must be from 0 to 65535' })
    .default(fallback);

const count = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be from ${min} to ${max}` })
    .max(max, { error: `must be from ${min} to ${max}` });

const flag = z.enum(['0', '1'], { error: 'must be 0 or 1' });

/** Comma- or space-separated items. */
const list = (v: string): string[] =>
  v
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

const CidrSchema = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()]);
const HostNameSchema = z
  .string()
  .regex(/^(\*\.)?[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$|^[0-9a-f:]+$/i, { error: 'not a host name' });

/** Default for ONAIR_MAX_RUNNING_CHANNELS: a live encode channel takes about one core. */
export function defaultMaxRunningChannels(cores = availableParallelism()): number {
  return Math.max(4, 2 * cores);
}

const IceServerSchema = z.strictObject({
  urls: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServerSchema>;

const EnvSchema = z.object({
  PORT: port(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  ONAIR_DATA_DIR: z.string().min(1).default('./data'),
  ONAIR_ADMIN_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' })
    .optional(),
  ONAIR_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://live.example.com' })
    .optional(),
  ONAIR_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  ONAIR_PUBLIC_IP: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IP address' }).optional(),
  ONAIR_RTC_PORT_MIN: port(0),
  ONAIR_RTC_PORT_MAX: port(0),
  ONAIR_ICE_SERVERS: z.string().default('[]'),
  ONAIR_FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  ONAIR_LIVE_WINDOW_SEGMENTS: count(3, 30).default(6),
  ONAIR_ORIGIN_CACHE_MB: count(0, 65536).default(256),
  ONAIR_WHIP_RATE_LIMIT: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be 1 or more' })
    .default(30),
  ONAIR_WHEP_MAX_VIEWERS: count(1, 100_000).default(200),
  ONAIR_WHEP_RATE_LIMIT: count(1, 1_000_000).default(120),
  ONAIR_LOOPBACK_ONLY_ICE: flag.default('0'),
  ONAIR_UI: flag.default('1'),
  ONAIR_TRUST_PROXY: z.string().default(''),
  ONAIR_ALLOWED_HOSTS: z.string().default(''),
  ONAIR_METRICS_TOKEN: z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' })
    .optional(),
  ONAIR_AUTH_FAILURE_LIMIT: count(1, 10_000).default(10),
  ONAIR_RTMP_PENDING_PER_ADDRESS: count(1, 10_000).default(8),
  ONAIR_RTMP_PENDING_MAX: count(1, 100_000).default(64),
  ONAIR_MAX_CHANNELS: count(1, 1_000_000).default(500),
  ONAIR_MAX_RUNNING_CHANNELS: count(1, 100_000).optional(),
  ONAIR_WEBHOOK_ALLOW_PRIVATE: flag.default('0'),
  ONAIR_WEBHOOK_MAX_ATTEMPTS: count(1, 20).default(10),
  ONAIR_WEBHOOK_BACKOFF_MS: count(10, 600_000).default(1000),
  ONAIR_RTMP_PORT: port(1935),
  ONAIR_RTMPS_PORT: port(1936),
  ONAIR_RTMPS_CERT: z.string().optional(),
  ONAIR_RTMPS_KEY: z.string().optional(),
  ONAIR_SRT_PORT_MIN: port(9000),
  ONAIR_SRT_PORT_MAX: port(9099),
  ONAIR_SRT_TRANSMIT_PATH: z.string().min(1).default('srt-live-transmit'),
  ONAIR_SFU: z.enum(SFU_ENGINES, { error: `must be one of ${SFU_ENGINES.join(', ')}` }).default('auto'),
  ONAIR_SFU_WORKERS: count(1, 1024).optional(),
  ONAIR_RTC_SINGLE_PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be from 1 to 65535' })
    .max(65535, { error: 'must be from 1 to 65535' })
    .optional(),
  MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
  NODE_ENV: z.string().default('production'),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  mediaDir: string;
  adminToken: string | undefined;
  publicUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  publicIp: string | undefined;
  rtcPortRange: [number, number] | undefined;
  iceServers: IceServer[];
  ffmpegPath: string;
  liveWindowSegments: number;
  /** Bytes of hot segments and parts the origin keeps in memory (0: none). */
  originCacheBytes: number;
  whipRateLimitPerMinute: number;
  whepMaxViewers: number;
  whepRateLimitPerMinute: number;
  loopbackOnlyIce: boolean;
  /** Proxies (CIDRs) whose X-Forwarded-For / Forwarded name the client; empty: none. */
  trustProxy: string[];
  /** Host names the server answers as (besides its own addresses, localhost and ONAIR_PUBLIC_URL's). */
  allowedHosts: string[];
  metricsToken: string | undefined;
  /** Failed authentications per client address per minute before 429. */
  authFailureLimit: number;
  /** RTMP connections not yet publishing with a valid key, per client address and in all. */
  rtmpPendingPerAddress: number;
  rtmpPendingMax: number;
  maxChannels: number;
  maxRunningChannels: number;
  webhookAllowPrivate: boolean;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  /** RTMP listener port; 0: no RTMP. */
  rtmpPort: number;
  /** RTMPS listener, when a certificate and key (PEM files) are configured. */
  rtmps: { port: number; certFile: string; keyFile: string } | undefined;
  /** UDP ports for the channels' SRT listeners (one per channel); undefined: no SRT. */
  srtPortRange: [number, number] | undefined;
  srtTransmitPath: string;
  /** `auto`: mediasoup when its worker is found, else werift. */
  sfu: SfuEngineChoice;
  /** mediasoup workers (one per core by default). */
  sfuWorkers: number;
  /** mediasoup's WebRtcServer: every WebRTC transport of worker i on this port + i (UDP and TCP). */
  rtcSinglePort: number | undefined;
  /** A mediasoup worker built elsewhere. */
  mediasoupWorkerBin: string | undefined;
  ui: boolean;
  dev: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Pure: environment in, validated config out; throws ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? 'environment');
    throw new ConfigError(`invalid ${key}=${JSON.stringify(env[key] ?? '')}: ${issue?.message ?? 'invalid'}`);
  }
  const e = parsed.data;
  let rtcPortRange: [number, number] | undefined;
  if (e.ONAIR_RTC_PORT_MIN !== 0 || e.ONAIR_RTC_PORT_MAX !== 0) {
    if (e.ONAIR_RTC_PORT_MIN === 0 || e.ONAIR_RTC_PORT_MAX === 0) {
      throw new ConfigError('ONAIR_RTC_PORT_MIN and ONAIR_RTC_PORT_MAX must be set together');
    }
    if (e.ONAIR_RTC_PORT_MAX - e.ONAIR_RTC_PORT_MIN < 10) {
      throw new ConfigError('ONAIR_RTC_PORT_MAX must be at least ONAIR_RTC_PORT_MIN + 10');
    }
    rtcPortRange = [e.ONAIR_RTC_PORT_MIN, e.ONAIR_RTC_PORT_MAX];
  }
  let iceServers: IceServer[];
  try {
    iceServers = z.array(IceServerSchema).parse(JSON.parse(e.ONAIR_ICE_SERVERS));
  } catch {
    throw new ConfigError(
      `invalid ONAIR_ICE_SERVERS: must be a JSON array such as [{"urls":"stun:stun.example.com:3478"}]`,
    );
  }
  const trustProxy = list(e.ONAIR_TRUST_PROXY);
  for (const entry of trustProxy) {
    if (!CidrSchema.safeParse(entry).success) {
      throw new ConfigError(
        `invalid ONAIR_TRUST_PROXY=${JSON.stringify(e.ONAIR_TRUST_PROXY)}: ${JSON.stringify(entry)} is not an IP address or CIDR such as 10.0.0.0/8`,
      );
    }
  }
  const allowedHosts = list(e.ONAIR_ALLOWED_HOSTS).map((h) => h.toLowerCase());
  for (const h of allowedHosts) {
    if (!HostNameSchema.safeParse(h).success) {
      throw new ConfigError(
        `invalid ONAIR_ALLOWED_HOSTS=${JSON.stringify(e.ONAIR_ALLOWED_HOSTS)}: ${JSON.stringify(h)} is not a host name such as live.example.com`,
      );
    }
  }
  if ((e.ONAIR_RTMPS_CERT === undefined) !== (e.ONAIR_RTMPS_KEY === undefined)) {
    throw new ConfigError('ONAIR_RTMPS_CERT and ONAIR_RTMPS_KEY must be set together');
  }
  const rtmps =
    e.ONAIR_RTMPS_CERT !== undefined && e.ONAIR_RTMPS_KEY !== undefined && e.ONAIR_RTMPS_PORT !== 0
      ? { port: e.ONAIR_RTMPS_PORT, certFile: e.ONAIR_RTMPS_CERT, keyFile: e.ONAIR_RTMPS_KEY }
      : undefined;
  let srtPortRange: [number, number] | undefined;
  if (e.ONAIR_SRT_PORT_MIN !== 0) {
    if (e.ONAIR_SRT_PORT_MAX < e.ONAIR_SRT_PORT_MIN) {
      throw new ConfigError('ONAIR_SRT_PORT_MAX must be at least ONAIR_SRT_PORT_MIN');
    }
    srtPortRange = [e.ONAIR_SRT_PORT_MIN, e.ONAIR_SRT_PORT_MAX];
  }
  if (e.ONAIR_RTC_SINGLE_PORT !== undefined && rtcPortRange) {
    const [min, max] = rtcPortRange;
    const workers = e.ONAIR_SFU_WORKERS ?? availableParallelism();
    if (e.ONAIR_RTC_SINGLE_PORT + workers - 1 >= min && e.ONAIR_RTC_SINGLE_PORT <= max) {
      throw new ConfigError(
        'ONAIR_RTC_SINGLE_PORT (one port per SFU worker from it) must lie outside ONAIR_RTC_PORT_MIN..ONAIR_RTC_PORT_MAX',
      );
    }
  }
  const dataDir = path.resolve(e.ONAIR_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    mediaDir: path.join(dataDir, 'media'),
    adminToken: e.ONAIR_ADMIN_TOKEN,
    publicUrl: e.ONAIR_PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.ONAIR_LOG_LEVEL,
    publicIp: e.ONAIR_PUBLIC_IP,
    rtcPortRange,
    iceServers,
    ffmpegPath: e.ONAIR_FFMPEG_PATH,
    liveWindowSegments: e.ONAIR_LIVE_WINDOW_SEGMENTS,
    originCacheBytes: e.ONAIR_ORIGIN_CACHE_MB * 1024 * 1024,
    whipRateLimitPerMinute: e.ONAIR_WHIP_RATE_LIMIT,
    whepMaxViewers: e.ONAIR_WHEP_MAX_VIEWERS,
    whepRateLimitPerMinute: e.ONAIR_WHEP_RATE_LIMIT,
    loopbackOnlyIce: e.ONAIR_LOOPBACK_ONLY_ICE === '1',
    trustProxy,
    allowedHosts,
    metricsToken: e.ONAIR_METRICS_TOKEN,
    authFailureLimit: e.ONAIR_AUTH_FAILURE_LIMIT,
    rtmpPendingPerAddress: e.ONAIR_RTMP_PENDING_PER_ADDRESS,
    rtmpPendingMax: e.ONAIR_RTMP_PENDING_MAX,
    maxChannels: e.ONAIR_MAX_CHANNELS,
    maxRunningChannels: e.ONAIR_MAX_RUNNING_CHANNELS ?? defaultMaxRunningChannels(),
    webhookAllowPrivate: e.ONAIR_WEBHOOK_ALLOW_PRIVATE === '1',
    webhookMaxAttempts: e.ONAIR_WEBHOOK_MAX_ATTEMPTS,
    webhookBackoffMs: e.ONAIR_WEBHOOK_BACKOFF_MS,
    rtmpPort: e.ONAIR_RTMP_PORT,
    rtmps,
    srtPortRange,
    srtTransmitPath: e.ONAIR_SRT_TRANSMIT_PATH,
    sfu: e.ONAIR_SFU,
    sfuWorkers: e.ONAIR_SFU_WORKERS ?? availableParallelism(),
    rtcSinglePort: e.ONAIR_RTC_SINGLE_PORT,
    mediasoupWorkerBin: e.MEDIASOUP_WORKER_BIN,
    ui: e.ONAIR_UI === '1',
    dev: e.NODE_ENV === 'development',
  };
}
