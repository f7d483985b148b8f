/** zod schemas shared by the server's routes and the browser's API client. */
import { z } from 'zod';
import { LADDER_NAMES, DEFAULT_LADDER } from './ladders.ts';

export const CHANNEL_STATES = ['stopped', 'starting', 'running', 'stopping'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

export const CHANNEL_MODES = ['encode', 'passthrough'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

export const PROGRAM_STATES = ['stopped', 'running'] as const;
export type ProgramState = (typeof PROGRAM_STATES)[number];

export const MAX_RUNNING_PROGRAMS = 3;

const cidr = z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
  error: 'must be an IP address or CIDR such as 192.168.0.0/16',
});
const allowList = z.array(cidr).max(64, { error: 'at most 64 entries' });

const name = z
  .string()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(100, { error: 'at most 100 characters' });
const description = z.string().max(1000, { error: 'at most 1000 characters' });
const segmentSeconds = z
  .number({ error: 'must be a whole number of seconds from 1 to 10' })
  .int({ error: 'must be a whole number of seconds from 1 to 10' })
  .min(1, { error: 'must be a whole number of seconds from 1 to 10' })
  .max(10, { error: 'must be a whole number of seconds from 1 to 10' });
const mode = z.enum(CHANNEL_MODES, { error: `must be one of ${CHANNEL_MODES.join(', ')}` });
const ladder = z.enum(LADDER_NAMES, { error: `must be one of ${LADDER_NAMES.join(', ')}` });

export const ChannelCreateSchema = z.strictObject({
  name,
  description: description.default(''),
  mode: mode.default('encode'),
  ladder: ladder.default(DEFAULT_LADDER),
  segmentSeconds: segmentSeconds.default(2),
  ingest: allowList.default([]),
  preview: allowList.default([]),
});
export type ChannelCreate = z.input<typeof ChannelCreateSchema>;

export const ChannelPatchSchema = z.strictObject({
  name: name.optional(),
  description: description.optional(),
  mode: mode.optional(),
  ladder: ladder.optional(),
  segmentSeconds: segmentSeconds.optional(),
  ingest: allowList.optional(),
  preview: allowList.optional(),
});
export type ChannelPatch = z.input<typeof ChannelPatchSchema>;

const archiveWindowMinutes = z
  .number({ error: 'must be a whole number of minutes from 1 to 1500' })
  .int({ error: 'must be a whole number of minutes from 1 to 1500' })
  .min(1, { error: 'must be a whole number of minutes from 1 to 1500' })
  .max(1500, { error: 'must be a whole number of minutes from 1 to 1500' });

export const ProgramCreateSchema = z.strictObject({
  name,
  archiveWindowMinutes: archiveWindowMinutes.default(60),
});
export type ProgramCreate = z.input<typeof ProgramCreateSchema>;

export const PageQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'must be a number from 1 to 200' })
    .int({ error: 'must be a whole number from 1 to 200' })
    .min(1, { error: 'must be from 1 to 200' })
    .max(200, { error: 'must be from 1 to 200' })
    .default(50),
  offset: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be 0 or more' })
    .default(0),
});
export type PageQuery = z.output<typeof PageQuerySchema>;

export interface ChannelUrls {
  whip: string;
  /** Real-time playback (WHEP). */
  whep: string;
  hls: string;
  dash: string;
  watch: string;
  embed: string;
}

export interface Channel {
  id: string;
  name: string;
  description: string;
  state: ChannelState;
  mode: ChannelMode;
  ladder: (typeof LADDER_NAMES)[number];
  segmentSeconds: number;
  streamKey: string;
  ingest: string[];
  preview: string[];
  urls: ChannelUrls;
  live: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Program {
  id: string;
  channelId: string;
  name: string;
  archiveWindowMinutes: number;
  state: ProgramState;
  startedAt: string | null;
  stoppedAt: string | null;
  assetId: string | null;
  createdAt: string;
}

export interface Asset {
  id: string;
  programId: string;
  channelId: string;
  name: string;
  durationSeconds: number;
  bytes: number;
  createdAt: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
