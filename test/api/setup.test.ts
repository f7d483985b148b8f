/**
 * Set-up installs mediasoup where it can run: scripts/setup-mediasoup.sh (what scripts/setup.sh runs
 * after the npm dependencies), on a project of its own, from a shell whose npm runs on the system's
 * Node (older than mediasoup's `engines` on Debian 12), given a worker in MEDIASOUP_WORKER_BIN.
 * It must leave a mediasoup package that `ONAIR_SFU=auto` picks, with or without the variable at run
 * time. The worker is the real one where one is found, else a stand-in file: `auto` decides on what
 * is installed, without starting it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { probeMediasoup, selectEngine } from '../../server/sfu/engine-select.ts';
import { ROOT } from '../helpers/server.ts';

const run = promisify(execFile);
const MEDIASOUP = (
  JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    optionalDependencies: Record<string, string>;
  }
).optionalDependencies.mediasoup!;

void describe('set-up with MEDIASOUP_WORKER_BIN', () => {
  void test('installs mediasoup under the bundled Node 24 and leaves a mediasoup that auto picks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'onair-setup-'));
    try {
      const found = probeMediasoup(process.env.MEDIASOUP_WORKER_BIN);
      let worker = found.workerBin;
      if (!worker) {
        worker = path.join(dir, 'bin', 'mediasoup-worker');
        mkdirSync(path.dirname(worker));
        writeFileSync(
          worker,
          '#!/bin/sh\necho "a stand-in: no mediasoup worker on this machine" >&2\nexit 1\n',
        );
        chmodSync(worker, 0o755);
      }
      const project = path.join(dir, 'project');
      mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
      writeFileSync(
        path.join(project, 'package.json'),
        JSON.stringify({
          name: 'onair-setup-test',
          private: true,
          allowScripts: { [`mediasoup@${MEDIASOUP}`]: true },
          optionalDependencies: { mediasoup: MEDIASOUP },
        }),
      );
      // What the first `npm install` leaves: the `node` package's Node 24 in node_modules/.bin.
      symlinkSync(process.execPath, path.join(project, 'node_modules', '.bin', 'node'));
      // A shell as a user's: no node_modules/.bin on PATH, so npm runs on the system's Node.
      const PATH = (process.env.PATH ?? '')
        .split(':')
        .filter((p) => !p.includes('node_modules'))
        .join(':');
      const env = { ...process.env, PATH, MEDIASOUP_WORKER_BIN: worker };
      const script = path.join(ROOT, 'scripts', 'setup-mediasoup.sh');
      const first = await run('bash', [script, project], { env, timeout: 240_000 });
      assert.match(first.stdout, /installing mediasoup \(optional\) with Node v2[4-9]/);
      assert.match(first.stdout, /mediasoup uses the worker/);

      const pkg = path.join(project, 'node_modules', 'mediasoup', 'package.json');
      assert.ok(existsSync(pkg), `${first.stdout}\n${first.stderr}`);
      assert.equal((JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version, MEDIASOUP);
      const from = pathToFileURL(path.join(project, 'index.js')).href;
      // At run time without the variable: the worker linked into the package.
      const probe = probeMediasoup(undefined, from);
      assert.equal(probe.workerFrom, 'package', JSON.stringify(probe));
      assert.equal(realpathSync(probe.workerBin!), realpathSync(worker));
      const auto = selectEngine('auto', probe);
      assert.equal(auto.engine, 'mediasoup', auto.reason ?? auto.error);
      // And with it.
      assert.equal(selectEngine('auto', probeMediasoup(worker, from)).engine, 'mediasoup');

      // Again: nothing to install, the same worker.
      const again = await run('bash', [script, project], { env, timeout: 60_000 });
      assert.doesNotMatch(again.stdout, /installing/);
      assert.equal(realpathSync(probeMediasoup(undefined, from).workerBin!), realpathSync(worker));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('a MEDIASOUP_WORKER_BIN that is not an executable file is refused in words', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'onair-setup-'));
    try {
      mkdirSync(path.join(project, 'node_modules', '.bin'), { recursive: true });
      symlinkSync(process.execPath, path.join(project, 'node_modules', '.bin', 'node'));
      const res = await run('bash', [path.join(ROOT, 'scripts', 'setup-mediasoup.sh'), project], {
        env: { ...process.env, MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker' },
      }).catch((err: { code: number; stderr: string }) => err);
      assert.equal((res as { code?: number }).code, 1);
      assert.match(
        res.stderr,
        /MEDIASOUP_WORKER_BIN=\/nonexistent\/mediasoup-worker is not an executable file/,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
