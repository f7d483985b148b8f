/** The one owner of child processes, with real short-lived children (`sleep`). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ChildProcesses } from '../../server/media/child-processes.ts';

function sleeper(seconds: number): ChildProcess {
  return spawn('sleep', [String(seconds)], { stdio: 'ignore' });
}

async function spawned(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) await once(child, 'spawn');
}

void describe('ChildProcesses', () => {
  void test('lists what runs, with its kind, channel and argv; forgets a child once it exits', async () => {
    const children = new ChildProcesses();
    const a = sleeper(30);
    const b = sleeper(0.05);
    await Promise.all([spawned(a), spawned(b)]);
    assert.equal(children.add(a, 'encoder', 'ch1'), a, 'add returns the child');
    children.add(b, 'thumbnail');
    assert.deepEqual(
      children.list().map((c) => ({ pid: c.pid, kind: c.kind, channelId: c.channelId, argv: c.argv })),
      [
        { pid: a.pid, kind: 'encoder', channelId: 'ch1', argv: ['sleep', '30'] },
        { pid: b.pid, kind: 'thumbnail', channelId: undefined, argv: ['sleep', '0.05'] },
      ],
    );
    await once(b, 'exit');
    assert.deepEqual(
      children.list().map((c) => c.pid),
      [a.pid],
      'the thumbnail job left when it exited',
    );
    a.kill('SIGKILL');
    await once(a, 'exit');
    assert.equal(children.size, 0);
  });

  void test("a channel's view adds to the whole and lists only that channel's children", async () => {
    const children = new ChildProcesses();
    const ch1 = children.forChannel('ch1');
    const ch2 = children.forChannel('ch2');
    const a = ch1.add(sleeper(30), 'remuxer');
    const b = ch2.add(sleeper(30), 'slate');
    const c = children.add(sleeper(30), 'download-remux');
    await Promise.all([spawned(a), spawned(b), spawned(c)]);
    assert.deepEqual(
      ch1.list().map((i) => [i.kind, i.channelId]),
      [['remuxer', 'ch1']],
    );
    assert.deepEqual(
      ch2.list().map((i) => [i.kind, i.channelId]),
      [['slate', 'ch2']],
    );
    assert.equal(children.list().length, 3);
    const killed = children.killAll();
    assert.deepEqual(killed.map((i) => i.kind).sort(), ['download-remux', 'remuxer', 'slate']);
    await Promise.all([once(a, 'exit'), once(b, 'exit'), once(c, 'exit')]);
    assert.equal(a.signalCode, 'SIGKILL');
    assert.equal(children.size, 0, 'killed children leave the registry');
  });

  void test('killAll sends the signal asked for; a child that could not spawn is not owned', async () => {
    const children = new ChildProcesses();
    const a = children.add(sleeper(30), 'srt-listener', 'ch1');
    await spawned(a);
    children.killAll('SIGTERM');
    await once(a, 'exit');
    assert.equal(a.signalCode, 'SIGTERM');
    const missing = spawn('/nonexistent/onair-test-binary', [], { stdio: 'ignore' });
    const failed = once(missing, 'error');
    children.add(missing, 'encoder');
    await failed;
    assert.equal(children.size, 0);
    assert.deepEqual(children.killAll(), []);
  });
});
