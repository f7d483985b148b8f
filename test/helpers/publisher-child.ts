/**
 * Child-process entry for publisher-process.ts: runs one publishWhip() and
 * reports over stdout (one JSON object a line). "stop\n" on stdin ends the
 * session with DELETE and exits. Living in its own process, the publisher cannot
 * leave werift sockets behind in the test process, and a SIGKILL of its process
 * group is a real crash (no DELETE, no ICE goodbye).
 */
import { createInterface } from 'node:readline';
import { publishWhip, type WhipPublisherOptions } from './whip-publisher.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as WhipPublisherOptions;
const send = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const p = await publishWhip(opts);
send({
  type: 'posted',
  status: p.status,
  location: p.location ?? null,
  answer: p.answer,
  postedAt: p.postedAt,
});
p.connected.then(
  () => send({ type: 'connected' }),
  (err: unknown) => send({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await p.stop().catch(() => undefined);
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') void stop();
});
process.stdin.on('end', () => void stop());
