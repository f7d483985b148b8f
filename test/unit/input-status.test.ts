/** The console's view of redundant inputs: the badge per input and when the switch button can act. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inputStatus, switchTarget } from '../../components/console/input-status.ts';
import type { InputHealth, InputsStats } from '../../lib/stats.ts';

const live: InputHealth = {
  source: 'whip',
  state: 'live',
  healthy: true,
  onAir: false,
  videoCodec: 'H264',
  width: 1280,
  height: 720,
  fps: 29.97,
  kbps: 2500,
  packetsLost: 0,
  connectedSince: '2026-11-24T09:00:00.000Z',
};

function inputs(over: Partial<InputsStats>): InputsStats {
  return {
    active: 'primary',
    primary: live,
    backup: live,
    switches: 0,
    slateSeconds: 0,
    lastSwitch: null,
    ...over,
  };
}

describe('inputStatus', () => {
  test('an absent or ended input is not connected, with a hint for the backup', () => {
    assert.equal(inputStatus(null, 'primary', false).label, 'Not connected');
    const backup = inputStatus({ ...live, state: 'ended' }, 'backup', false);
    assert.equal(backup.label, 'Not connected');
    assert.match(backup.detail, /backup URL/);
  });
  test('on air, standby and silent inputs read differently', () => {
    const onAir = inputStatus(live, 'primary', true);
    assert.deepEqual([onAir.label, onAir.tone], ['On air', 'red']);
    assert.match(onAir.detail, /H264 1280×720, 30 fps/);
    assert.equal(inputStatus(live, 'backup', false).label, 'Standby');
    assert.equal(inputStatus({ ...live, healthy: false }, 'backup', false).label, 'No media');
    assert.equal(inputStatus({ ...live, state: 'connecting' }, 'backup', false).label, 'Connecting');
  });
});

describe('switchTarget', () => {
  test('the other input, only when it is healthy', () => {
    assert.equal(switchTarget(inputs({})), 'backup');
    assert.equal(switchTarget(inputs({ active: 'backup' })), 'primary');
    assert.equal(switchTarget(inputs({ backup: { ...live, healthy: false } })), undefined);
    assert.equal(switchTarget(inputs({ backup: null })), undefined);
  });
  test('nothing to switch on the slate, before any input or without stats', () => {
    assert.equal(switchTarget(inputs({ active: 'slate' })), undefined);
    assert.equal(switchTarget(inputs({ active: null })), undefined);
    assert.equal(switchTarget(undefined), undefined);
  });
});
