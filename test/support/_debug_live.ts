import { startServer } from '../helpers/server.ts';
import { publishWhip } from './whip-publisher.ts';
import { ffmpegChildren } from './procs.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync } from 'node:fs';
const s = await startServer({ env: { ONAIR_LOOPBACK_ONLY_ICE: '1', ONAIR_LOG_LEVEL: 'debug' } });
try {
  const c = (await s.api<{ id: string; streamKey: string }>('POST', '/api/v1/channels', { name: 'x', mode: process.argv[2] ?? 'encode' })).json;
  await s.api('POST', `/api/v1/channels/${c.id}/start`);
  const p = await publishWhip({ url: `${s.url}/whip/${c.id}`, token: c.streamKey, width: 1280, height: 720, fps: 20, gop: 40 });
  console.log('status', p.status, Date.now() - p.postedAt);
  await p.connected;
  console.log('connected', Date.now() - p.postedAt);
  for (let i = 0; i < 15; i++) {
    await sleep(1000);
    const m = await s.request('GET', `/live/${c.id}/master.m3u8`, { auth: false });
    const a = await s.request('GET', `/live/${c.id}/audio.m3u8`, { auth: false });
    console.log(i, m.status, a.status, ffmpegChildren(s.pid!).map((x) => x.pid));
    if (m.status === 200) { console.log(m.text); break; }
  }
  const stats = await s.api('GET', `/api/v1/channels/${c.id}/stats`);
  console.log(JSON.stringify(stats.json).slice(0, 1500));
  const live = `${s.dataDir}/media/${c.id}/live`;
  for (const r of readdirSync(live)) for (const t of readdirSync(`${live}/${r}`)) console.log(r, t, t.endsWith('sdp') ? '' : readdirSync(`${live}/${r}/${t}`).join(' '));
  const ff = ffmpegChildren(s.pid!)[0];
  console.log(ff?.cmdline.join(' '));
  await p.stop();
  const st = await s.api('POST', `/api/v1/channels/${c.id}/stop`);
  console.log('stop', st.status);
} finally {
  await s.stop();
  console.log('exit', s.exitCode);
  console.log(s.stderr.slice(-3000));
  console.log(s.logs.filter((l) => (l.level as number) >= 40).map((l) => JSON.stringify(l).slice(0, 600)).join('\n'));
  console.log(s.logs.filter((l) => /ffmpeg/.test(String(l.msg))).map((l) => JSON.stringify(l).slice(0, 300)).join('\n'));
}
