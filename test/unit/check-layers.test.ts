/** The layer check that `npm run lint` runs: it finds an upward import and passes the real tree. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importsOf, partOf, violations } from '../../scripts/check-layers.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'onair-layers-'));
  dirs.push(root);
  for (const top of ['lib', 'server', 'components', 'app'])
    mkdirSync(path.join(root, top), { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('imports are read from import, export and dynamic import, across lines', () => {
  const src = `import a from './a.ts';\nimport type {\n  B,\n  C,\n} from '../b.ts';\nexport * from "./c.ts";\nconst d = await import('./d.ts');\nimport 'node:fs';`;
  assert.deepEqual(importsOf(src), ['./a.ts', '../b.ts', './c.ts', './d.ts']);
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

test('the project itself has no upward import', () => {
  assert.deepEqual(violations(), []);
});
