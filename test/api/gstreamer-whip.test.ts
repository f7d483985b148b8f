/**
 * A third-party WHIP client: GStreamer's webrtcbin (libnice ICE, its own DTLS, an offer in JSEP's
 * max-bundle shape — audio on port 0 with a=bundle-only) publishes into a passthrough channel on
 * the engine under test (werift, or ONAIR_SFU=mediasoup where a worker is found, whose answer is
 * ICE-lite). Both its tracks are taken, and the channel's HLS carries its H.264 and Opus → AAC.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createChannel, startChannel } from '../helpers/live-channel.ts';
import { publishGstreamer } from '../helpers/gst-publisher.ts';
import { parseMediaPlaylist } from '../helpers/playlists.ts';
import { waitFor } from '../helpers/procs.ts';
import { getBytes } from '../helpers/replies.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const run = promisify(execFile);

void describe('a GStreamer webrtcbin publisher', () => {
  const suite = suiteServer();

  void test('connects, both its tracks are taken, and its H.264 and audio reach HLS', async () => {
    const s = suite.server;
    const channel = await startChannel(s, (await createChannel(s, { name: 'gst', mode: 'passthrough' })).id);
    const p = await publishGstreamer(`${s.url}/whip/${channel.id}`, channel.streamKey);
    const tmp = mkdtempSync(path.join(tmpdir(), 'onair-gst-'));
    try {
      assert.equal(p.status, 201, p.answer);
      // The bundle-only audio section is answered as a track on the bundle, not rejected.
      assert.match(p.answer, /^a=group:BUNDLE video0 audio1\r?$/m, p.answer);
      assert.doesNotMatch(p.answer, /^m=audio 0 /m, p.answer);
      await p.connected;

      const master = await waitFor(
        'a master playlist with video and audio',
        async () => {
          const res = await s.request('GET', `/live/${channel.id}/master.m3u8`, { auth: false });
          return res.status === 200 && /mp4a/.test(res.text) ? res.text : undefined;
        },
        20_000,
      );
      assert.match(master, /CODECS="avc1\.42c01e,mp4a\.40\.2",RESOLUTION=640x360/);
      const segment = await waitFor(
        'a video segment',
        async () => {
          const res = await s.request('GET', `/live/${channel.id}/source.m3u8`, { auth: false });
          return res.status === 200 ? parseMediaPlaylist(res.text).segments[0] : undefined;
        },
        20_000,
      );
      const init = await getBytes(s, `/live/${channel.id}/${segment.map}`);
      const media = await getBytes(s, `/live/${channel.id}/${segment.uri}`);
      assert.equal(init.status, 200);
      assert.equal(media.status, 200);
      const file = path.join(tmp, 'video.mp4');
      writeFileSync(file, Buffer.concat([init.body, media.body]));
      const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file]);
      const [video] = (
        JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }
      ).streams;
      assert.deepEqual([video?.codec_name, video?.width, video?.height], ['h264', 640, 360]);
    } finally {
      await p.stop();
      rmSync(tmp, { recursive: true, force: true });
    }
    // Its DELETE on the way out ended the session.
    assert.ok(p.location, 'the 201 named the session');
    const again = await s.request('DELETE', p.location, {
      auth: false,
      headers: { authorization: `Bearer ${channel.streamKey}` },
    });
    assert.equal(again.status, 404, again.text);
  });
});
