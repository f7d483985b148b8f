/**
 * Configuration is read once, from the environment, at start-up. Every variable,
 * its default and its meaning is listed in README.md ("Configuration").
 */
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be from 0 to 65535' })
    .max(65535, { error: 'must be from 0 to 65535' })
    .default(fallback);

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
  ONAIR_LIVE_WINDOW_SEGMENTS: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(3, { error: 'must be from 3 to 30' })
    .max(30, { error: 'must be from 3 to 30' })
    .default(6),
  ONAIR_WHIP_RATE_LIMIT: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be 1 or more' })
    .default(30),
  ONAIR_WHEP_MAX_VIEWERS: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be 1 or more' })
    .max(100_000, { error: 'must be 100000 or less' })
    .default(200),
  ONAIR_WHEP_RATE_LIMIT: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be 1 or more' })
    .default(120),
  ONAIR_LOOPBACK_ONLY_ICE: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('0'),
  ONAIR_UI: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('1'),
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
  whipRateLimitPerMinute: number;
  whepMaxViewers: number;
  whepRateLimitPerMinute: number;
  loopbackOnlyIce: boolean;
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
    whipRateLimitPerMinute: e.ONAIR_WHIP_RATE_LIMIT,
    whepMaxViewers: e.ONAIR_WHEP_MAX_VIEWERS,
    whepRateLimitPerMinute: e.ONAIR_WHEP_RATE_LIMIT,
    loopbackOnlyIce: e.ONAIR_LOOPBACK_ONLY_ICE === '1',
    ui: e.ONAIR_UI === '1',
    dev: e.NODE_ENV === 'development',
  };
}
