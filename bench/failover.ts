/**
 * Redundant ingest figures (part of `npm run bench`), on loopback: one encode channel,
 * two werift WHIP publishers in child processes (FFmpeg test patterns), the on-air one
 * SIGKILLed (no DELETE, no DTLS close: an encoder's machine dying).
 *
 *   - failover: the on-air input's last video packet → the other input's first frame in
 *     the output (stats.inputs.lastSwitch.gapMs, measured where the switcher hands media
 *     to the encoder); median of FAILOVER_RUNS (default 5)
 *   - slate: total input loss (the last packet of the last input) → the first slate frame
 *     in the output; median of FAILOVER_RUNS
 *   - back to live: a publisher's WHIP 201 → its first frame on air (from the slate)
 *
 *   node bench/failover.ts     # alone; bench/run.ts runs it with BENCH_PARTS including failover
 */
import { startBenchServer, type BenchEngine } from './server.ts';
import { publishWhipProcess } from '../test/helpers/publisher-process.ts';
import type { WhipPublisher } from '../test/helpers/whip-publisher.ts';
import type { Channel } from '../lib/schemas.ts';
import type { ChannelStats } from '../lib/stats.ts';
import { median } from './median.ts';

const RUNS = Number(process.env.FAILOVER_RUNS ?? 5);
type Role = 'primary' | 'backup';

export interface FailoverBench {
  failoverAfterMs: number;
  slateAfterMs: number;
  failoverGapMs: { samples: number[]; median: number };
  slateGapMs: { samples: number[]; median: number };
  backToLiveMs: { samples: number[]; median: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function failoverBench(engine: BenchEngine = 'werift'): Promise<FailoverBench> {
  const s = await startBenchServer(engine);
  const live = new Set<WhipPublisher>();
  try {
    const created = await s.api<Channel>('POST', '/api/v1/channels', {
      name: 'bench failover',
      ladder: '480p',
      segmentSeconds: 2,
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
    const ch = created.json;
    await s.api('POST', `/api/v1/channels/${ch.id}/start`);

    const stats = async () => (await s.api<ChannelStats>('GET', `/api/v1/channels/${ch.id}/stats`)).json;
    const until = async (what: string, ok: (st: ChannelStats) => boolean, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const st = await stats();
        if (ok(st)) return st;
        await sleep(50);
      }
      throw new Error(`bench failover: ${what} not within ${timeoutMs} ms`);
    };
    const publish = async (role: Role) => {
      const p = await publishWhipProcess({
        url: `${s.url}/whip/${ch.id}${role === 'backup' ? '/backup' : ''}`,
        token: ch.streamKey,
        width: 640,
        height: 360,
        fps: 20,
        gop: 40,
      });
      if (p.status !== 201) throw new Error(`WHIP ${role}: ${p.status} ${p.answer}`);
      await p.connected;
      live.add(p);
      return p;
    };
    const kill = async (p: WhipPublisher) => {
      live.delete(p);
      await p.vanish();
    };

    const pubs: Record<Role, WhipPublisher> = {
      primary: await publish('primary'),
      backup: await publish('backup'),
    };
    const failover: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const st = await until(
        'both inputs healthy',
        (x) => !!x.inputs?.primary?.healthy && !!x.inputs.backup?.healthy,
      );
      const onAir = st.inputs!.active as Role;
      const standby: Role = onAir === 'primary' ? 'backup' : 'primary';
      await sleep(3000); // a settled standby, as in a real event
      const switches = (await stats()).inputs!.switches;
      await kill(pubs[onAir]);
      const after = await until(
        `${standby} on air`,
        (x) => x.inputs!.switches > switches && x.inputs!.active === standby,
      );
      failover.push(after.inputs!.lastSwitch!.gapMs!);
      process.stdout.write(`failover ${onAir} → ${standby}: ${after.inputs!.lastSwitch!.gapMs} ms\n`);
      pubs[onAir] = await publish(onAir);
    }

    const slate: number[] = [];
    const back: number[] = [];
    await kill(pubs.primary);
    for (let i = 0; i < RUNS; i++) {
      await until('one input on air', (x) => x.inputs?.active === 'backup' && !!x.inputs.backup?.healthy);
      await sleep(3000);
      await kill(pubs.backup);
      const slated = await until('the slate', (x) => x.inputs?.active === 'slate');
      slate.push(slated.inputs!.lastSwitch!.gapMs!);
      await sleep(2000);
      pubs.backup = await publish('backup');
      await until('live again', (x) => x.inputs?.active === 'backup');
      back.push(Date.now() - pubs.backup.postedAt);
      process.stdout.write(
        `slate after ${slated.inputs!.lastSwitch!.gapMs} ms; live again ${back.at(-1)} ms\n`,
      );
    }
    return {
      failoverAfterMs: ch.failoverAfterMs,
      slateAfterMs: ch.slateAfterMs,
      failoverGapMs: { samples: failover, median: median(failover) },
      slateGapMs: { samples: slate, median: median(slate) },
      backToLiveMs: { samples: back, median: median(back) },
    };
  } finally {
    for (const p of live) await p.vanish().catch(() => undefined);
    await s.dispose();
  }
}

if (import.meta.main) {
  const r = await failoverBench();
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  process.exit(0);
}
