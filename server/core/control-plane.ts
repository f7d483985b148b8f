/**
 * Channels, programs and assets: the state rules of onair's control model
 * (after Azure Media Services' live streaming). Routes call this; it calls the
 * store's repositories for rows and the runtime for media.
 */
import type { ChannelEventType } from '../../lib/events.ts';
import { Assets } from './assets.ts';
import { Channels } from './channels.ts';
import { ControlContext, type ControlPlaneDeps, type EventAbout } from './control-context.ts';
import { Programs } from './programs.ts';

export type { ControlPlaneDeps, ControlPlaneLimits, IngestPorts, Notification } from './control-context.ts';
export { ingestUrls } from './channels.ts';

export class ControlPlane {
  readonly channels: Channels;
  readonly programs: Programs;
  readonly assets: Assets;
  readonly #x: ControlContext;

  constructor(deps: ControlPlaneDeps) {
    this.#x = new ControlContext(deps);
    this.assets = new Assets(this.#x);
    this.programs = new Programs(this.#x, () => this.channels, this.assets);
    this.channels = new Channels(this.#x, (id) => this.programs.finishAll(id));
  }

  /** An event the runtime reports (a publisher came, an input failed over); dropped once the channel is gone. */
  recordEvent(
    channelId: string,
    type: ChannelEventType,
    message: string,
    about: EventAbout = {},
  ): Promise<void> {
    return this.#x.eventIfChannel(channelId, type, message, about);
  }

  /** After a restart: assets being kept are checked, channels that were running come back running. */
  async restore(): Promise<void> {
    await this.assets.restore();
    await this.channels.restore();
  }

  /** Server shutdown: stop media, but keep the persisted state so channels come back. */
  async shutdown(): Promise<void> {
    await this.#x.runtime.close();
  }
}
