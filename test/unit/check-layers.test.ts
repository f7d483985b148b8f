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

/** Each kind of violation the layer check must report, and only those: a tree of files, the reports' beginnings. */
const CASES: { name: string; files: Record<string, string>; reported: string[] }[] = [
  {
    name: 'an upward import is reported; a downward one is not',
    files: {
      'server/core/control-plane.ts':
        "import { x } from '../api/http.ts';\nimport { y } from '../store/store.ts';\n",
      'server/api/http.ts': "import { z } from '../core/control-plane.ts';\n",
      'server/store/store.ts': '',
      'server/sfu/engine.ts': "import { s } from '../ingest/sdp.ts';\n",
      'server/ingest/sdp.ts': '',
      'components/x.tsx': "import { c } from '../server/config.ts';\n",
      'server/config.ts': '',
    },
    reported: [
      'server/core/control-plane.ts imports server/api/http.ts',
      'server/sfu/engine.ts imports server/ingest/sdp.ts',
      'components/x.tsx imports server/config.ts',
    ],
  },
  {
    name: 'a side-effect import from the SFU into live is reported',
    files: {
      'server/sfu/engine.ts': "import '../live/channel-hub.ts';\n",
      'server/live/channel-hub.ts': '',
    },
    reported: [
      'server/sfu/engine.ts imports server/live/channel-hub.ts (server/live): not allowed for server/sfu',
    ],
  },
  {
    name: 'an @/ import that runs upward is reported; one that runs downward is not',
    files: {
      'server/packager/hls.ts': "import { x } from '@/server/origin/origin.ts';\n",
      'server/origin/origin.ts': "import { y } from '@/server/packager/hls.ts';\n",
      'components/c.tsx': "import type { Z } from '@/server/config.ts';\n",
      'server/config.ts': '',
    },
    reported: [
      'server/packager/hls.ts imports server/origin/origin.ts',
      'components/c.tsx imports server/config.ts',
    ],
  },
  {
    name: 'a require of server/app.ts from below is reported, also through createRequire',
    files: {
      'server/live/hub.ts': "const app = require('../app.ts');\n",
      'server/store/store.ts':
        "import { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\nreq('../app.ts');\n",
      'server/app.ts': "import './live/hub.ts';\n",
    },
    reported: ['server/live/hub.ts imports server/app.ts', 'server/store/store.ts imports server/app.ts'],
  },
  {
    name: 'werift and mediasoup stay apart; only the engine selection names them',
    files: {
      'server/sfu/werift/werift-engine.ts':
        "import { m } from '../mediasoup/mediasoup-engine.ts';\nimport { e } from '../engine.ts';\n",
      'server/sfu/mediasoup/mediasoup-engine.ts': "import { e } from '../engine.ts';\n",
      'server/sfu/engine.ts': "import { w } from './werift/werift-engine.ts';\n",
      'server/sfu/start-engine.ts':
        "import { w } from './werift/werift-engine.ts';\nimport { m } from './mediasoup/mediasoup-engine.ts';\n",
      'server/live/hub.ts':
        "import { w } from '../sfu/werift/werift-engine.ts';\nimport { s } from '../sfu/start-engine.ts';\n",
    },
    reported: [
      'server/sfu/werift/werift-engine.ts imports server/sfu/mediasoup',
      'server/sfu/engine.ts imports server/sfu/werift',
      'server/live/hub.ts imports server/sfu/werift',
    ],
  },
  {
    name: 'tests, E2E specs and the bench keep to their rooms',
    files: {
      'bench/startup.ts':
        "import { w } from '../e2e/support/whip.ts';\nimport { h } from '../test/helpers/server.ts';\n",
      'e2e/support/whip.ts': '',
      'test/helpers/server.ts': "import { a } from '../../server/app.ts';\n",
      'test/api/x.test.ts':
        "import { b } from '../../bench/startup.ts';\nimport { h } from '../helpers/server.ts';\n",
      'e2e/live.spec.ts': "import { h } from '../test/helpers/server.ts';\n",
      'server/app.ts': '',
      'server/live/hub.ts': "import { t } from '../../test/helpers/server.ts';\n",
    },
    reported: [
      'bench/startup.ts imports e2e/support/whip.ts',
      'test/api/x.test.ts imports bench/startup.ts',
      'server/live/hub.ts imports test/helpers/server.ts',
    ],
  },
];

for (const c of CASES) {
  test(c.name, () => {
    const found = violations(tree(c.files));
    assert.equal(found.length, c.reported.length, found.join('\n'));
    for (const prefix of c.reported)
      assert.ok(
        found.some((p) => p.startsWith(prefix)),
        `${prefix}\n${found.join('\n')}`,
      );
  });
}

test('the project itself has no upward import', () => {
  assert.deepEqual(violations(), []);
});
