/**
 * The last line of `npm test`: which SFU engine the suite ran on, and whether the mediasoup runs
 * happened or were skipped (no worker on this machine). The suite runs on werift unless
 * ONAIR_SFU=mediasoup; where a worker is found, `ONAIR_SFU=mediasoup npm test` runs every
 * media-path test on mediasoup too.
 *
 *   node scripts/engine-runs.ts
 */
import { probeMediasoup } from '../server/sfu/engine-select.ts';

const asked = process.env.ONAIR_SFU ?? 'werift';
const probe = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
const worker = probe.workerBin !== undefined && probe.packageDir !== undefined;
const say = (line: string) => process.stdout.write(`engines: ${line}\n`);

if (asked === 'mediasoup') say(`the suite ran on mediasoup (worker ${probe.workerBin ?? 'none found'})`);
else if (worker)
  say(
    `the suite ran on ${asked}; a mediasoup worker is found (${probe.workerBin}): run ` +
      '`ONAIR_SFU=mediasoup npm test` for the mediasoup runs',
  );
else say(`the suite ran on ${asked}; mediasoup runs skipped (${probe.problem ?? 'no worker found'})`);
