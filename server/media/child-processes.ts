/**
 * The one owner of every child process onair starts: encoders, ingest
 * remuxers, SRT listeners, the slate, thumbnail and download-remux jobs. It is
 * made once at start-up (server/main.ts) and passed down explicitly; whoever
 * spawns a child registers it here, so shutdown can kill what is left and
 * anyone (logs, tests) can see in one place what runs and why.
 *
 * A child leaves the registry when it exits (or fails to spawn). Killing is
 * the spawner's job while onair runs; `killAll()` is the last resort when it
 * stops or is stopping too slowly.
 */
import type { ChildProcess } from 'node:child_process';

export type ChildKind = 'encoder' | 'remuxer' | 'slate' | 'thumbnail' | 'srt-listener' | 'download-remux';

/** One running child as the registry shows it. */
export interface ChildInfo {
  pid: number;
  kind: ChildKind;
  /** The channel it works for; none for jobs of the asset library. */
  channelId: string | undefined;
  /** The program and its arguments, as spawned. */
  argv: readonly string[];
  startedAt: number;
}

/** What a spawner needs: register a child (and see its own). */
export interface ChildRegistry {
  /** Registers `child` until it exits; returns it. */
  add<C extends ChildProcess>(child: C, kind: ChildKind): C;
  list(): ChildInfo[];
}

interface Entry {
  child: ChildProcess;
  info: ChildInfo;
}

function gone(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export class ChildProcesses implements ChildRegistry {
  readonly #entries = new Set<Entry>();

  add<C extends ChildProcess>(child: C, kind: ChildKind, channelId?: string): C {
    // A child that could not spawn has no pid and never runs: nothing to own.
    if (child.pid === undefined || gone(child)) return child;
    const entry: Entry = {
      child,
      info: { pid: child.pid, kind, channelId, argv: [...child.spawnargs], startedAt: Date.now() },
    };
    this.#entries.add(entry);
    const remove = () => this.#entries.delete(entry);
    child.once('exit', remove);
    child.once('error', () => {
      if (gone(child)) remove();
    });
    return child;
  }

  /** The registry as a channel's spawners see it: what they add is the channel's. */
  forChannel(channelId: string): ChildRegistry {
    return {
      add: <C extends ChildProcess>(child: C, kind: ChildKind): C => this.add(child, kind, channelId),
      list: () => this.list().filter((c) => c.channelId === channelId),
    };
  }

  /** Every child still running, oldest first. */
  list(): ChildInfo[] {
    return [...this.#entries].map((e) => ({ ...e.info }));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Signals every child still running (SIGKILL by default); returns what it signalled. */
  killAll(signal: NodeJS.Signals = 'SIGKILL'): ChildInfo[] {
    const killed: ChildInfo[] = [];
    for (const e of this.#entries) {
      if (gone(e.child)) continue;
      e.child.kill(signal);
      killed.push({ ...e.info });
    }
    return killed;
  }
}
