/**
 * A running channel's SRT input: a listener on the channel's own UDP port
 * (srt-live-transmit from the SRT project, the reference implementation), the
 * stream key as the SRT passphrase (AES, enforced: a caller with another key or
 * none is rejected in the handshake, before any media). One caller at a time:
 * the listener stops listening once a caller is in, and starts again when it
 * leaves. Its MPEG-TS goes through a remuxer (rtp-remuxer.ts) into a source.
 *
 * Who may publish (the ingest allow-list; rejected handshakes counted per source
 * address) is decided from srt-live-transmit's log: srt-caller-gate.ts. A caller's
 * media is held until its handshake is judged. Transport figures (packets lost,
 * retransmitted, RTT) come from srt-live-transmit's JSON statistics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { IngestRole } from '../../lib/schemas.ts';
import type { Logger } from '../log.ts';
import type { ChildRegistry } from '../media/child-processes.ts';
import type { MediaSource } from '../media/source.ts';
import { TsProgramReader } from './mpegts.ts';
import { SrtCallerGate } from './srt-caller-gate.ts';
import { RemuxFeed } from './remux-feed.ts';
import { RemuxSource } from './remux-source.ts';

export interface SrtListenerOptions {
  host: string;
  port: number;
  /** The input this port feeds: the channel's primary or its backup. */
  role: IngestRole;
  /** The stream key: the SRT passphrase (10–79 characters). */
  passphrase: string;
  /** The channel's ingest allow-list: whether a caller's address may publish. */
  allowed: (address: string) => boolean;
  latencyMs: number;
  transmitPath: string;
  ffmpegPath: string;
  log: Logger;
  /** Owns srt-live-transmit and the caller's remuxer. */
  children: ChildRegistry;
  attach: (source: MediaSource, role: IngestRole) => void;
  /** Rejected handshakes per source address per minute before that address is locked out. */
  failureLimitPerMinute: number;
  /** Milliseconds before listening again after a caller left (default 300). */
  relistenMs?: number;
}

/** The argv of srt-live-transmit for a channel's listener: SRT in, MPEG-TS on stdout, stats on fd 3. */
export function buildSrtListenerArgs(o: {
  host: string;
  port: number;
  passphrase: string;
  latencyMs: number;
}): string[] {
  const host = o.host === '0.0.0.0' || o.host === '::' ? '' : o.host;
  const query = new URLSearchParams({
    mode: 'listener',
    latency: String(o.latencyMs),
    passphrase: o.passphrase,
    enforced_encryption: 'yes',
  });
  return [
    '-a:no', // one caller, then exit: onair listens again
    '-s:250', // statistics every 250 packets
    '-pf:json',
    '-statsout:/dev/fd/3', // its own pipe: log lines on stderr can split a line
    '-loglevel:note', // names each handshake's source address (srt-caller-gate.ts)
    `srt://${host}:${String(o.port)}?${query.toString()}`,
    'file://con',
  ];
}

/** What srt-live-transmit's JSON statistics line says about the receiving side. */
export function parseSrtStats(
  line: string,
): { lost: number; retransmitted: number; dropped: number; rttMs: number | undefined } | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const j = JSON.parse(line) as {
      recv?: { packetsLost?: number; packetsRetransmitted?: number; packetsDropped?: number };
      link?: { rtt?: number };
    };
    if (!j.recv) return undefined;
    return {
      lost: j.recv.packetsLost ?? 0,
      retransmitted: j.recv.packetsRetransmitted ?? 0,
      dropped: j.recv.packetsDropped ?? 0,
      rttMs: j.link?.rtt,
    };
  } catch {
    return undefined;
  }
}

const PROGRAM_TIMEOUT_MS = 5000;
/** Media chunks held until the caller's handshake is judged (about a second of a fast stream). */
const MAX_HELD_CHUNKS = 1024;

/**
 * Whether a process is an SRT listener on `port` left behind by an onair that
 * died without stopping it (killed, crashed): srt-live-transmit waiting for a
 * caller writes nothing, so it never notices its parent is gone, and it holds
 * the port. Orphans are re-parented to init (or a subreaper that is not onair).
 */
export function isOrphanedListener(
  p: { cmdline: readonly string[]; ppid: number; parentComm: string | undefined },
  port: number,
): boolean {
  if (!(p.cmdline[0] ?? '').endsWith('srt-live-transmit')) return false;
  const listens = p.cmdline.some(
    (a) => a.startsWith('srt://') && a.includes(`:${String(port)}?`) && a.includes('mode=listener'),
  );
  return listens && (p.ppid === 1 || p.parentComm === undefined || !p.parentComm.startsWith('node'));
}

/** Ends orphaned SRT listeners on `port` (Linux /proc; elsewhere nothing is found). */
function reapOrphanedListeners(port: number, log: Logger): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return;
  }
  const comm = (pid: number | string): string | undefined => {
    try {
      return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  for (const pid of pids) {
    if (!comm(pid)?.startsWith('srt-live')) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (!isOrphanedListener({ cmdline, ppid, parentComm: comm(ppid) }, port)) continue;
      process.kill(Number(pid), 'SIGKILL');
      log.warn({ pid: Number(pid), port }, 'ended an SRT listener left behind by an earlier run');
    } catch {
      continue;
    }
  }
}

export class SrtListener {
  readonly #opts: SrtListenerOptions;
  readonly #gate: SrtCallerGate;
  #child: ChildProcess | undefined;
  #feed: RemuxFeed | undefined;
  #source: RemuxSource | undefined;
  #restart: NodeJS.Timeout | undefined;
  #closed = false;
  /** The listener program cannot run (missing): no restarts. */
  #broken = false;
  /** The address of the current (or last) caller. */
  #caller: string | undefined;
  /** Takes (true) or drops (false) the current caller's media, held ones first. */
  #admit: (ok: boolean) => void = () => undefined;
  /** Listeners an earlier onair left on the port were looked for (once). */
  #reaped = false;
  /** The current caller's handshake was accepted and judged: true to take its media, false to drop it. */
  #admitted: boolean | undefined;
  /** The caller's media that arrived before its handshake was judged. */
  #held: Buffer[] = [];
  rejected = 0;

  constructor(opts: SrtListenerOptions) {
    this.#opts = opts;
    this.#gate = new SrtCallerGate({
      allowed: opts.allowed,
      failureLimitPerMinute: opts.failureLimitPerMinute,
    });
  }

  get listening(): boolean {
    return this.#child !== undefined && this.#feed === undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.#closed || this.#broken || this.#child) return;
    const o = this.#opts;
    if (!this.#reaped) {
      this.#reaped = true;
      reapOrphanedListeners(o.port, o.log);
    }
    const child = o.children.add(
      spawn(o.transmitPath, buildSrtListenerArgs(o), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] }),
      'srt-listener',
    );
    this.#child = child;
    this.#admitted = undefined;
    this.#held = [];
    child.once('error', (err) => {
      this.#broken = true;
      o.log.error({ err }, `cannot run ${o.transmitPath}: SRT ingest is off for this channel`);
    });
    const lines = (stream: NodeJS.ReadableStream | null | undefined) => {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          this.#line(pending.slice(0, nl).trim());
          pending = pending.slice(nl + 1);
        }
        if (pending.length > 16384) pending = pending.slice(-16384);
      });
    };
    lines(child.stderr);
    lines(child.stdio[3] as NodeJS.ReadableStream | null);
    const reader = new TsProgramReader();
    let programTimer: NodeJS.Timeout | undefined;
    const media = (chunk: Buffer) => {
      if (!this.#feed) {
        // A caller is in.
        const feed = new RemuxFeed({
          name: 'source',
          ffmpegPath: o.ffmpegPath,
          log: o.log.child({ srt: o.port }),
          children: o.children,
          disconnect: () => child.kill('SIGTERM'),
        });
        this.#feed = feed;
        feed.transport = { packetsLost: 0, packetsRetransmitted: 0, packetsDropped: 0, rttMs: undefined };
        programTimer = setTimeout(() => feed.close('no MPEG-TS program arrived'), PROGRAM_TIMEOUT_MS);
        o.log.info({ port: o.port, role: o.role, address: this.#caller }, 'SRT caller connected');
      }
      const feed = this.#feed;
      if (feed.ended) return;
      feed.write(chunk);
      if (this.#source) return;
      const program = reader.push(chunk);
      if (!program) return;
      clearTimeout(programTimer);
      if (program.video !== 'H264') {
        feed.close(
          program.video === undefined
            ? 'the SRT stream has no video'
            : `SRT video must be H.264 (got ${program.video})`,
        );
        return;
      }
      feed.start('mpegts', program.audio !== undefined);
      const source = new RemuxSource({ kind: 'srt', feeds: [feed], multiBitrate: false, log: o.log });
      this.#source = source;
      feed.on('ended', (reason) => source.close(reason));
      try {
        o.attach(source, o.role);
      } catch (err) {
        o.log.info({ err }, 'SRT caller refused');
        source.close(`refused: ${(err as Error).message}`);
      }
    };
    let judgeTimer: NodeJS.Timeout | undefined;
    this.#admit = (ok) => {
      clearTimeout(judgeTimer);
      this.#admitted = ok;
      const held = this.#held;
      this.#held = [];
      if (ok) for (const chunk of held) media(chunk);
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (this.#admitted === true) {
        media(chunk);
        return;
      }
      if (this.#admitted === false || this.#held.length >= MAX_HELD_CHUNKS) return;
      this.#held.push(chunk);
      // The verdict comes on stderr a moment before the media on stdout; never wait on it for long.
      judgeTimer ??= setTimeout(() => {
        o.log.warn({ port: o.port }, 'SRT caller dropped: its handshake was not seen in the log');
        this.#admit(false);
        child.kill('SIGTERM');
      }, PROGRAM_TIMEOUT_MS);
    });
    child.once('exit', () => {
      clearTimeout(programTimer);
      clearTimeout(judgeTimer);
      this.#held = [];
      if (this.#child === child) this.#child = undefined;
      const feed = this.#feed;
      this.#feed = undefined;
      this.#source = undefined;
      feed?.close('the SRT caller disconnected');
      this.#scheduleStart(this.#opts.relistenMs ?? 300);
    });
  }

  #line(line: string): void {
    if (!line) return;
    const stats = parseSrtStats(line);
    if (stats) {
      const t = this.#feed?.transport;
      if (t) {
        t.packetsLost += stats.lost;
        t.packetsRetransmitted += stats.retransmitted;
        t.packetsDropped += stats.dropped;
        t.rttMs = stats.rttMs;
      }
      return;
    }
    const { port, log } = this.#opts;
    for (const e of this.#gate.read(line)) {
      if (e.kind === 'rejected') {
        this.rejected++;
        log.info({ port, address: e.address, line }, 'SRT caller rejected');
        if (e.lockedOut)
          log.warn(
            { port, address: e.address },
            'too many rejected SRT handshakes: the address is locked out',
          );
        continue;
      }
      this.#caller = e.address;
      if (e.refused === undefined) {
        this.#admit(true);
        continue;
      }
      log.warn({ port, address: e.address }, `SRT caller refused: ${e.refused}`);
      this.#admit(false);
      this.#child?.kill('SIGTERM');
    }
  }

  #scheduleStart(delayMs: number): void {
    if (this.#closed || this.#restart) return;
    this.#restart = setTimeout(() => {
      this.#restart = undefined;
      this.start();
    }, delayMs);
    this.#restart.unref();
  }

  /** Stops listening, drops the caller, ends the source. Resolves once the processes are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#restart) clearTimeout(this.#restart);
    const child = this.#child;
    const feed = this.#feed;
    this.#source?.close('channel stopped');
    feed?.close('channel stopped');
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(kill);
    }
    await feed?.closed();
  }
}
