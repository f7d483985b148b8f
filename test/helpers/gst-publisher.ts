/**
 * A WHIP publisher made of GStreamer's webrtcbin (gst-whip.py): libnice ICE, GStreamer's own DTLS,
 * and an offer in JSEP's max-bundle shape (every section after the first on port 0, bundle-only).
 * A third-party client, as an encoder built on GStreamer publishes. Debian's system Python runs it
 * (it has the GObject bindings; a Python of one's own on PATH may not).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onJsonLines } from './procs.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'gst-whip.py');
const PYTHON = process.env.ONAIR_TEST_GST_PYTHON ?? '/usr/bin/python3';

export interface GstPublisher {
  status: number;
  location: string | undefined;
  answer: string;
  /** Resolves when ICE and DTLS are up; rejects when the client gives up (15 s) or fails. */
  connected: Promise<void>;
  /** DELETEs its session, then stops (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

export async function publishGstreamer(url: string, token: string): Promise<GstPublisher> {
  const child = spawn(PYTHON, [SCRIPT, url, token], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
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
    answer?: string;
    body?: string;
  }>((resolve, reject) => {
    onJsonLines(child.stdout, (msg) => {
      if (msg.type === 'posted') resolve(msg as unknown as { status: number; location: string | null });
      else if (msg.type === 'connected') onConnected?.();
      else if (msg.type === 'failed') onFailed?.(new Error(`GStreamer publisher: ${String(msg.message)}`));
    });
    child.once('exit', (code, signal) => {
      const why = `GStreamer publisher exited (${code ?? signal})`;
      reject(new Error(`${why} before its POST: ${stderr.trim().slice(-600)}`));
      onFailed?.(new Error(why));
    });
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  return {
    status: posted.status,
    location: posted.location ?? undefined,
    answer: posted.answer ?? posted.body ?? '',
    connected,
    stop,
  };
}
