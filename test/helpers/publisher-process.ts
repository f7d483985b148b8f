/**
 * publishWhip() in a child process (see publisher-child.ts), with the same shape
 * as WhipPublisher. `vanish()` SIGKILLs the child's process group (the Node
 * publisher and its FFmpeg): the server hears nothing more, as after a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onJsonLines } from './procs.ts';
import type { WhipPublisher, WhipPublisherOptions } from './whip-publisher.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'publisher-child.ts');

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of started) killGroup(c);
});

function killGroup(child: ChildProcess): void {
  // The group, even when the child itself has exited: its FFmpeg may outlive it.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export async function publishWhipProcess(opts: WhipPublisherOptions): Promise<WhipPublisher> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(opts)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true, // its own process group, so vanish() also takes its FFmpeg
  });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let onConnected: (() => void) | undefined;
  let onFailed: ((err: Error) => void) | undefined;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onFailed = reject;
  });
  connected.catch(() => undefined);

  const posted = await new Promise<{
    status: number;
    location: string | null;
    answer: string;
    postedAt: number;
  }>((resolve, reject) => {
    onJsonLines(child.stdout, (msg) => {
      if (msg.type === 'posted')
        resolve(
          msg as unknown as { status: number; location: string | null; answer: string; postedAt: number },
        );
      else if (msg.type === 'connected') onConnected?.();
      else if (msg.type === 'failed')
        onFailed?.(new Error(typeof msg.message === 'string' ? msg.message : 'publisher failed'));
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`publisher process exited (${code ?? signal}) before its POST`));
      onFailed?.(new Error(`publisher process exited (${code ?? signal})`));
    });
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.write('stop\n');
      const timer = setTimeout(() => killGroup(child), 5000);
      await exited;
      clearTimeout(timer);
    }
    killGroup(child); // its FFmpeg, should the child have died first
    started.delete(child);
  };
  const vanish = async (): Promise<void> => {
    killGroup(child);
    await exited;
    started.delete(child);
  };
  return {
    status: posted.status,
    location: posted.location ?? undefined,
    answer: posted.answer,
    postedAt: posted.postedAt,
    connected,
    stop,
    vanish,
  };
}
