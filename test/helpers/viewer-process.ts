/**
 * WHEP viewers in a child process (see viewer-child.ts), so their werift sockets
 * and CPU stay out of the test process. `vanish()` SIGKILLs the child: the
 * server hears nothing more, as when a viewer's machine drops off the network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onJsonLines, waitFor } from './procs.ts';
import type { KindCounters, WhepViewerOptions } from './whep-viewer.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'viewer-child.ts');

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) c.kill('SIGKILL');
});

export interface PostedViewer {
  index: number;
  status: number;
  location: string | null;
  etag: string | null;
  retryAfter: string | null;
  answer: string;
  postedAt: number;
}

export interface ViewerReport {
  state: string;
  counters: { video: KindCounters; audio: KindCounters };
}

export interface ViewerGroup {
  readonly pid: number | undefined;
  /** Every viewer's POST, in order. */
  posted: PostedViewer[];
  /** Resolves when every viewer whose POST got 201 is connected. */
  connected: Promise<void>;
  stats(): Promise<ViewerReport[]>;
  /** DELETE every session, then exit; resolves with the DELETE statuses. */
  stop(): Promise<(number | null)[]>;
  vanish(): Promise<void>;
}

/** Waits up to `timeoutMs` for the group's first viewer to report what `ok` accepts; returns that report. */
export function firstViewerWhen(
  group: ViewerGroup,
  what: string,
  ok: (r: ViewerReport) => boolean,
  timeoutMs: number,
): Promise<ViewerReport> {
  return waitFor(
    what,
    async () => {
      const [r] = await group.stats();
      return r && ok(r) ? r : undefined;
    },
    timeoutMs,
  );
}

export async function watchWhepProcess(opts: WhepViewerOptions & { count?: number }): Promise<ViewerGroup> {
  const count = opts.count ?? 1;
  const child = spawn(process.execPath, [CHILD, JSON.stringify(opts)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const posted: PostedViewer[] = [];
  const waiting = new Map<string, (msg: Record<string, unknown>) => void>();
  let connectedCount = 0;
  let failure: Error | undefined;
  let onAllConnected: (() => void) | undefined;
  let onConnectFailed: ((err: Error) => void) | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    onAllConnected = resolve;
    onConnectFailed = reject;
  });
  connected.catch(() => undefined);
  const checkConnected = () => {
    const expected = posted.filter((p) => p.status === 201).length;
    if (posted.length === count && connectedCount >= expected) onAllConnected?.();
  };

  await new Promise<void>((resolve, reject) => {
    onJsonLines(child.stdout, (msg) => {
      if (msg.type === 'posted') {
        posted.push(msg as unknown as PostedViewer);
        if (posted.length === count) resolve();
        checkConnected();
      } else if (msg.type === 'connected') {
        connectedCount++;
        checkConnected();
      } else if (msg.type === 'failed') {
        failure = new Error(`viewer ${String(msg.index)}: ${String(msg.message)}`);
        onConnectFailed?.(failure);
      } else if (typeof msg.type === 'string') {
        waiting.get(msg.type)?.(msg);
        waiting.delete(msg.type);
      }
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`viewer process exited (${code ?? signal}) before its POSTs`));
      onConnectFailed?.(new Error(`viewer process exited (${code ?? signal})`));
    });
  });

  const ask = (command: string, reply: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${reply} from the viewer process`)), 10_000);
      waiting.set(reply, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      child.stdin.write(`${command}\n`);
    });

  return {
    pid: child.pid,
    posted,
    connected,
    stats: async () => ((await ask('stats', 'stats')).viewers ?? []) as ViewerReport[],
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return [];
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const reply = await ask('stop', 'stopped').catch(() => ({ statuses: [] }));
      await exited;
      clearTimeout(timer);
      started.delete(child);
      return (reply.statuses ?? []) as (number | null)[];
    },
    vanish: async () => {
      child.kill('SIGKILL');
      await exited;
      started.delete(child);
    },
  };
}
