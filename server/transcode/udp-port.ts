/**
 * UDP port helpers for the FFmpeg RTP input (Linux).
 *
 * FFmpeg binds its ports up to ~1 s after spawn (after it has parsed the SDP); the forwarder should
 * start sending (and the server send its PLI) only once waitForUdpPort() resolved, or the first
 * packets, including the keyframe, are lost.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { MediaError } from '../media/errors.ts';

const PROC_FILES = ['/proc/net/udp', '/proc/net/udp6'];

/** Local ports with a bound UDP socket, from /proc/net/udp{,6} text. Exported for tests. */
export function parseProcNetUdp(text: string): Set<number> {
  const ports = new Set<number>();
  for (const line of text.split('\n')) {
    // "  sl  local_address rem_address   st ..." / "   0: 0100007F:9C40 00000000:0000 07 ..."
    const local = line.trim().split(/\s+/)[1];
    if (!local) continue;
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    const port = Number.parseInt(local.slice(colon + 1), 16);
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

/** Whether any process has a UDP socket bound to `port` (any address, IPv4 or IPv6). */
export async function isUdpPortBound(port: number): Promise<boolean> {
  for (const file of PROC_FILES) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // e.g. no IPv6
    }
    if (parseProcNetUdp(text).has(port)) return true;
  }
  return false;
}

/**
 * Resolve once a UDP socket is bound to `port`; reject after `timeoutMs` (or when `signal` aborts).
 * Polls /proc/net/udp and /proc/net/udp6 every `intervalMs` (default 50).
 */
export async function waitForUdpPort(
  port: number,
  timeoutMs: number,
  options: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const interval = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await isUdpPortBound(port)) return;
    if (Date.now() >= deadline)
      throw new MediaError(
        'port_unavailable',
        `UDP port ${String(port)} not bound within ${String(timeoutMs)} ms`,
      );
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), undefined, {
      signal: options.signal,
    });
  }
}

function bind(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * Find `count` free port pairs on 127.0.0.1: each returned port is even and both it (RTP) and
 * port + 1 (RTCP, which FFmpeg always binds as well) were free. The probe sockets are all held until
 * the search ends, so the returned ports are distinct, then closed: another process may still take
 * them before FFmpeg binds (small race; retry on an FFmpeg bind failure).
 */
export async function allocateUdpPorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
  const held: Socket[] = [];
  const ports: number[] = [];
  try {
    for (let attempts = 0; ports.length < count; attempts++) {
      if (attempts >= 200 + count * 20)
        throw new MediaError('port_unavailable', `could not find ${String(count)} free UDP port pairs`);
      const probe = await bind(0);
      if (!probe) continue;
      held.push(probe);
      const port = probe.address().port;
      if (port % 2 !== 0 || port >= 65535) continue;
      const rtcp = await bind(port + 1);
      if (!rtcp) continue;
      held.push(rtcp);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
