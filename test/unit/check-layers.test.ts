/** The layer check that `npm run lint` runs: it finds an upward import and passes the real tree. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importsOf, partOf, resolveSpecifier, violations } from '../../scripts/check-layers.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'onair-layers-'));
  dirs.push(root);
  for (const top of ['lib', 'server', 'components', 'app', 'test', 'e2e', 'bench'])
    mkdirSync(path.join(root, top), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('imports are read from import, export, side effects, import(), require and createRequire', () => {
  const src = [
    "import a from './a.ts';",
    "import type {\n  B,\n  C,\n} from '../b.ts';",
    'export * from "./c.ts";',
    "const d = await import('./d.ts');",
    "import 'node:fs';",
    "import './e.ts';",
    "const f = require('./f.ts');",
    "const load = createRequire(import.meta.url);\nconst g = load('@/lib/g.ts');",
    "const h = load.resolve('../h.ts');",
  ].join('\n');
  assert.deepEqual(importsOf(src), [
    './a.ts',
    '../b.ts',
    './c.ts',
    'node:fs',
    './e.ts',
    './d.ts',
    './f.ts',
    '@/lib/g.ts',
    '../h.ts',
  ]);
});

test('specifiers resolve relative to the file or through the @/ alias; packages do not resolve', () => {
  assert.equal(resolveSpecifier('server/live/hub.ts', '../sfu/engine.ts'), 'server/sfu/engine.ts');
  assert.equal(resolveSpecifier('components/x.tsx', '@/server/app.ts'), 'server/app.ts');
  assert.equal(resolveSpecifier('server/live/hub.ts', 'werift'), undefined);
  assert.equal(resolveSpecifier('server/live/hub.ts', 'node:fs'), undefined);
});

test('parts: the longest rule that contains the file', () => {
  assert.equal(partOf('server/core/control-plane.ts'), 'server/core');
  assert.equal(partOf('server/app.ts'), 'server/app.ts');
  assert.equal(partOf('lib/schemas.ts'), 'lib');
  assert.equal(partOf('server/nowhere.ts'), undefined);
});

test('an upward import is reported; a downward one is not', () => {
  const root = tree({
    'server/core/control-plane.ts':
      "import { x } from '../api/http.ts';\nimport { y } from '../store/store.ts';\n",
    'server/api/http.ts': "import { z } from '../core/control-plane.ts';\n",
    'server/store/store.ts': '',
    'server/sfu/engine.ts': "import { s } from '../ingest/sdp.ts';\n",
    'server/ingest/sdp.ts': '',
    'components/x.tsx': "import { c } from '../server/config.ts';\n",
    'server/config.ts': '',
  });
  const found = violations(root);
  assert.equal(found.length, 3, found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('server/core/control-plane.ts imports server/api/http.ts')));
  assert.ok(found.some((p) => p.startsWith('server/sfu/engine.ts imports server/ingest/sdp.ts')));
  assert.ok(found.some((p) => p.startsWith('components/x.tsx imports server/config.ts')));
});

test('a side-effect import from the SFU into live is reported', () => {
  const root = tree({
    'server/sfu/engine.ts': "import '../live/channel-hub.ts';\n",
    'server/live/channel-hub.ts': '',
  });
  assert.deepEqual(violations(root), [
    'server/sfu/engine.ts imports server/live/channel-hub.ts (server/live): not allowed for server/sfu',
  ]);
});

test('an @/ import that runs upward is reported; one that runs downward is not', () => {
  const root = tree({
    'server/packager/hls.ts': "import { x } from '@/server/origin/origin.ts';\n",
    'server/origin/origin.ts': "import { y } from '@/server/packager/hls.ts';\n",
    'components/c.tsx': "import type { Z } from '@/server/config.ts';\n",
    'server/config.ts': '',
  });
  const found = violations(root);
  assert.equal(found.length, 2, found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('server/packager/hls.ts imports server/origin/origin.ts')));
  assert.ok(found.some((p) => p.startsWith('components/c.tsx imports server/config.ts')));
});

test('a require of server/app.ts from below is reported, also through createRequire', () => {
  const root = tree({
    'server/live/hub.ts': "const app = require('../app.ts');\n",
    'server/store/store.ts':
      "import { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\nreq('../app.ts');\n",
    'server/app.ts': "import './live/hub.ts';\n",
  });
  const found = violations(root);
  assert.equal(found.length, 2, found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('server/live/hub.ts imports server/app.ts')));
  assert.ok(found.some((p) => p.startsWith('server/store/store.ts imports server/app.ts')));
});

test('werift and mediasoup stay apart; only the engine selection names them', () => {
  const root = tree({
    'server/sfu/werift/werift-engine.ts':
      "import { m } from '../mediasoup/mediasoup-engine.ts';\nimport { e } from '../engine.ts';\n",
    'server/sfu/mediasoup/mediasoup-engine.ts': "import { e } from '../engine.ts';\n",
    'server/sfu/engine.ts': "import { w } from './werift/werift-engine.ts';\n",
    'server/sfu/start-engine.ts':
      "import { w } from './werift/werift-engine.ts';\nimport { m } from './mediasoup/mediasoup-engine.ts';\n",
    'server/live/hub.ts':
      "import { w } from '../sfu/werift/werift-engine.ts';\nimport { s } from '../sfu/start-engine.ts';\n",
  });
  const found = violations(root);
  assert.equal(found.length, 3, found.join('\n'));
  assert.ok(
    found.some((p) => p.startsWith('server/sfu/werift/werift-engine.ts imports server/sfu/mediasoup')),
  );
  assert.ok(found.some((p) => p.startsWith('server/sfu/engine.ts imports server/sfu/werift')));
  assert.ok(found.some((p) => p.startsWith('server/live/hub.ts imports server/sfu/werift')));
});

test('tests, E2E specs and the bench keep to their rooms', () => {
  const root = tree({
    'bench/startup.ts':
      "import { w } from '../e2e/support/whip.ts';\nimport { h } from '../test/helpers/server.ts';\n",
    'e2e/support/whip.ts': '',
    'test/helpers/server.ts': "import { a } from '../../server/app.ts';\n",
    'test/api/x.test.ts':
      "import { b } from '../../bench/startup.ts';\nimport { h } from '../helpers/server.ts';\n",
    'e2e/live.spec.ts': "import { h } from '../test/helpers/server.ts';\n",
    'server/app.ts': '',
    'server/live/hub.ts': "import { t } from '../../test/helpers/server.ts';\n",
  });
  const found = violations(root);
  assert.equal(found.length, 3, found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('bench/startup.ts imports e2e/support/whip.ts')));
  assert.ok(found.some((p) => p.startsWith('test/api/x.test.ts imports bench/startup.ts')));
  assert.ok(found.some((p) => p.startsWith('server/live/hub.ts imports test/helpers/server.ts')));
});

test('the project itself has no upward import', () => {
  assert.deepEqual(violations(), []);
});
