/** Linux /proc helpers: a process's children, their command lines, their UDP ports. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  cmdline: string[];
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, ppid: Number(ppid), comm, state: state ?? '?', cmdline };
  } catch {
    return undefined; // gone meanwhile
  }
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** Living (not zombie) direct children of `pid`. */
export function childrenOf(pid: number): ProcInfo[] {
  return allProcesses().filter((p) => p.ppid === pid && p.state !== 'Z');
}

/**
 * What a channel leaves running under `pid`: its children but mediasoup's workers, which belong to
 * the server (ONAIR_SFU=mediasoup) and live as long as it does.
 */
export function channelChildren(pid: number): ProcInfo[] {
  return childrenOf(pid).filter((p) => !p.cmdline.join(' ').includes('mediasoup-worker'));
}

/** FFmpeg processes spawned by `pid`. */
export function ffmpegChildren(pid: number): ProcInfo[] {
  return childrenOf(pid).filter((p) => p.comm === 'ffmpeg' || /(^|\/)ffmpeg$/.test(p.cmdline[0] ?? ''));
}

/** An ingest remuxer: FFmpeg reading FLV/MPEG-TS on stdin and sending RTP (a thumbnail job also reads stdin). */
export function isIngestRemuxer(p: ProcInfo): boolean {
  return p.cmdline.includes('pipe:0') && p.cmdline.includes('rtp');
}

/** Whether `pid` still runs (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  const p = readProc(pid);
  return p !== undefined && p.state !== 'Z';
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The rows of the kernel's UDP tables (IPv4 and IPv6): each socket's local port and inode. */
function udpSockets(): { port: number; inode: string }[] {
  const rows: { port: number; inode: string }[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local)
        rows.push({
          port: Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16),
          inode: cols[9] ?? '',
        });
    }
  }
  return rows;
}

/** Local UDP ports of the sockets `pid` holds open (IPv4 and IPv6). */
export function udpPortsOf(pid: number): Set<number> {
  const inodes = socketInodes(pid);
  return new Set(
    udpSockets()
      .filter((r) => r.inode && inodes.has(r.inode))
      .map((r) => r.port),
  );
}

/** Every locally bound UDP port on the machine. */
export function boundUdpPorts(): Set<number> {
  return new Set(udpSockets().map((r) => r.port));
}

/** Polls `check` every `intervalMs` until it returns a truthy value; throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Calls `onMessage` with each JSON object a child writes on a line of `stream` (other lines are skipped). */
export function onJsonLines(
  stream: NodeJS.ReadableStream,
  onMessage: (msg: Record<string, unknown>) => void,
): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg && typeof msg === 'object') onMessage(msg as Record<string, unknown>);
    }
  });
}

/** A TCP port free on loopback now (for a listener the test starts next). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createTcpServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
