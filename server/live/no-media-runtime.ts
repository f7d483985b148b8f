/** The runtime of a server that runs no media (the API tests' default): every channel is offline. */
import { OnairError } from '../../lib/errors.ts';
import { OFFLINE_STATS, type ChannelLiveStats } from '../../lib/stats.ts';
import { IdleRuntime } from '../core/runtime.ts';
import type { MediaMount } from '../http/mount.ts';
import type { Sample } from '../observability/metrics.ts';
import type { MediaRuntime } from './live-runtime.ts';

export class NoMediaRuntime extends IdleRuntime implements MediaRuntime {
  mounts(): MediaMount[] {
    return [];
  }
  playbackSecretRotated(): void {}
  stats(): ChannelLiveStats {
    return OFFLINE_STATS;
  }
  metrics(): Sample[] {
    return [];
  }
  switchInput(): never {
    throw new OnairError('channel_not_running', 'this server runs no media');
  }
  slateImage(): string {
    return '';
  }
  setSlateImage(): Promise<void> {
    return Promise.reject(new OnairError('unavailable', 'this server runs no media'));
  }
  deleteSlateImage(): Promise<void> {
    return Promise.resolve();
  }
  health(): Record<string, unknown> {
    return {};
  }
}
