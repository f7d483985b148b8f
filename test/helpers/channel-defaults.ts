/** What every new channel starts with, asserted the same way over the API and in the control plane. */
import assert from 'node:assert/strict';
import type { Channel } from '../../lib/schemas.ts';

type Defaults = Pick<
  Channel,
  'description' | 'state' | 'mode' | 'ladder' | 'segmentSeconds' | 'ingest' | 'preview'
>;

/** No description, stopped, encoding the 720p ladder in 2 s segments, no address fences. */
export function assertChannelDefaults(c: Defaults): void {
  assert.equal(c.description, '');
  assert.equal(c.state, 'stopped');
  assert.equal(c.mode, 'encode');
  assert.equal(c.ladder, '720p');
  assert.equal(c.segmentSeconds, 2);
  assert.deepEqual(c.ingest, []);
  assert.deepEqual(c.preview, []);
}
