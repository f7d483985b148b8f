/**
 * Child-process entry for viewer-process.ts: runs `count` WHEP viewers of one
 * channel and reports over stdout (one JSON object a line). Commands on stdin:
 * "stats" (every viewer's counters and connection state), "stop" (DELETE every
 * session, exit). A SIGKILL of the process is a vanished audience: no DELETE.
 */
import { createInterface } from 'node:readline';
import { watchWhep, type WhepViewer, type WhepViewerOptions } from './whep-viewer.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as WhepViewerOptions & { count?: number };
const send = (msg: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(msg)}\n`);

const viewers: WhepViewer[] = [];
for (let i = 0; i < (opts.count ?? 1); i++) {
  const v = await watchWhep(opts);
  viewers.push(v);
  send({
    type: 'posted',
    index: i,
    status: v.status,
    location: v.location ?? null,
    etag: v.etag ?? null,
    retryAfter: v.retryAfter ?? null,
    answer: v.answer,
    postedAt: v.postedAt,
  });
  v.connected.then(
    () => send({ type: 'connected', index: i, at: Date.now() }),
    (err: unknown) =>
      send({ type: 'failed', index: i, message: err instanceof Error ? err.message : String(err) }),
  );
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  const statuses = await Promise.all(viewers.map((v) => v.stop().catch(() => undefined)));
  send({ type: 'stopped', statuses });
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats')
    send({
      type: 'stats',
      viewers: viewers.map((v) => ({ state: v.connectionState, counters: v.counters })),
    });
  else if (cmd === 'stop') void stop();
});
process.stdin.on('end', () => void stop());
