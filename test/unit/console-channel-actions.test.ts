/** The console's state → allowed-actions rules, for channels and programs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowedChannelActions,
  allowedProgramActions,
  channelActionHint,
  channelPhase,
  PHASE_TEXT,
} from '../../components/console/channel-actions.ts';
import { CHANNEL_STATES, MAX_RUNNING_PROGRAMS } from '../../lib/schemas.ts';

describe('allowedChannelActions', () => {
  for (const [name, state, expected] of [
    [
      'a stopped channel can start, reset its key and be deleted, not stop',
      'stopped',
      { start: true, stop: false, reset: true, delete: true },
    ],
    [
      'a running channel can stop and reset its key, not start or be deleted',
      'running',
      { start: false, stop: true, reset: true, delete: false },
    ],
  ] as const) {
    test(name, () => {
      assert.deepEqual(allowedChannelActions(state), expected);
    });
  }
  test('nothing while starting or stopping', () => {
    for (const s of ['starting', 'stopping'] as const) {
      assert.deepEqual(allowedChannelActions(s), { start: false, stop: false, reset: false, delete: false });
    }
  });
  test('nothing while a request is in flight, whatever the state', () => {
    for (const s of CHANNEL_STATES) {
      assert.ok(
        Object.values(allowedChannelActions(s, { busy: true })).every((v) => !v),
        s,
      );
    }
  });
  test('every disallowed action but reset has a hint, allowed ones none', () => {
    for (const s of CHANNEL_STATES) {
      const allowed = allowedChannelActions(s);
      for (const a of ['start', 'stop', 'delete'] as const) {
        assert.equal(channelActionHint(a, s) === undefined, allowed[a], `${a} on ${s}`);
      }
    }
    assert.equal(channelActionHint('delete', 'running'), 'Stop the channel before deleting it.');
  });
});

describe('allowedProgramActions', () => {
  const fresh = { state: 'stopped' as const, assetId: null };
  const running = { state: 'running' as const, assetId: null };
  const finished = { state: 'stopped' as const, assetId: 'as_1' };

  test('a fresh program starts on a running channel below the limit', () => {
    assert.deepEqual(allowedProgramActions(fresh, 'running', 0), { start: true, stop: false, delete: true });
    assert.equal(allowedProgramActions(fresh, 'running', MAX_RUNNING_PROGRAMS - 1).start, true);
  });
  test('not on a channel that is not running', () => {
    for (const s of ['stopped', 'starting', 'stopping'] as const)
      assert.equal(allowedProgramActions(fresh, s, 0).start, false, s);
  });
  test('not at the running-programs limit', () => {
    assert.equal(allowedProgramActions(fresh, 'running', MAX_RUNNING_PROGRAMS).start, false);
  });
  test('a finished program does not start again but can be deleted', () => {
    assert.deepEqual(allowedProgramActions(finished, 'running', 0), {
      start: false,
      stop: false,
      delete: true,
    });
  });
  test('a running program can stop, not be deleted', () => {
    assert.deepEqual(allowedProgramActions(running, 'running', 1), {
      start: false,
      stop: true,
      delete: false,
    });
  });
  test('busy disables everything', () => {
    assert.deepEqual(allowedProgramActions(running, 'running', 1, { busy: true }), {
      start: false,
      stop: false,
      delete: false,
    });
  });
});

describe('channelPhase', () => {
  test('from stopped to on air', () => {
    assert.equal(channelPhase('stopped', false, null), 'stopped');
    assert.equal(channelPhase('starting', false, null), 'starting');
    assert.equal(channelPhase('running', false, 0), 'waiting-publisher');
    assert.equal(channelPhase('running', true, 0), 'waiting-segment');
    assert.equal(channelPhase('running', true, undefined), 'waiting-segment');
    assert.equal(channelPhase('running', true, 3), 'on-air');
    assert.equal(channelPhase('stopping', true, 3), 'stopping');
  });
  test('a running channel whose publisher left waits for one again', () => {
    assert.equal(channelPhase('running', false, 42), 'waiting-publisher');
  });
  test('every phase has a sentence', () => {
    for (const text of Object.values(PHASE_TEXT)) assert.match(text, /\S.*[.…]$/);
  });
});
