/**
 * Nothing imports upward. Each part of the tree may import only the parts
 * listed for it (and npm packages): protocols and the packager never reach for
 * the HTTP server or the control plane, `core/` never reaches for `api/`, the
 * browser code never reaches for `server/`, the werift and mediasoup engines
 * never reach for each other, and tests, E2E specs and the bench keep to their
 * own helpers. Run by `npm run lint`.
 *
 * Every way a module can load another counts: `import … from`, `export … from`,
 * a side-effect `import '…'`, `import('…')`, `require('…')` and a function made
 * by `createRequire`; a specifier may be relative or use the `@/` alias of
 * tsconfig.json (the project root).
 *
 *   node scripts/check-layers.ts        # exit 1 and a list when a rule is broken
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const BASE = ['lib', 'server/log.ts'];
const SFU = [...BASE, 'server/config.ts', 'server/media'];
const SERVER_PARTS = [
  'server/log.ts',
  'server/config.ts',
  'server/media',
  'server/observability',
  'server/store',
  'server/http',
  'server/sfu',
  'server/sfu/werift',
  'server/sfu/mediasoup',
  'server/transcode',
  'server/packager',
  'server/source',
  'server/ingest',
  'server/egress',
  'server/origin',
  'server/core',
  'server/auth',
  'server/webhooks',
  'server/live',
  'server/api',
  'server/ui',
  'server/app.ts',
  'server/main.ts',
];
/** The one file that picks an engine: it alone may name both. */
export const ENGINE_SELECTION = 'server/sfu/start-engine.ts';

/** part → the parts it may import (besides itself). Lower parts come first. */
export const RULES: Record<string, readonly string[] | '*'> = {
  lib: [],
  'server/log.ts': ['lib'],
  'server/config.ts': ['lib'],
  'server/media': BASE,
  'server/observability': BASE,
  'server/store': BASE,
  'server/http': [...BASE, 'server/media', 'server/observability'],
  // The SFU's common part never names an engine; each engine sees the common part, not the other.
  'server/sfu': SFU,
  'server/sfu/werift': [...SFU, 'server/sfu'],
  'server/sfu/mediasoup': [...SFU, 'server/sfu'],
  'server/transcode': [...BASE, 'server/media'],
  'server/packager': [...BASE, 'server/media'],
  // Sources that are not an SFU's publishers: the failover switcher, the slate.
  'server/source': [...BASE, 'server/media', 'server/transcode'],
  'server/ingest': [...BASE, 'server/config.ts', 'server/media', 'server/http', 'server/sfu'],
  'server/egress': [...BASE, 'server/config.ts', 'server/media', 'server/http'],
  'server/origin': [...BASE, 'server/media', 'server/http', 'server/packager'],
  'server/core': [...BASE, 'server/store'],
  'server/auth': BASE,
  'server/webhooks': [...BASE, 'server/store'],
  'server/live': [
    ...BASE,
    'server/source',
    'server/config.ts',
    'server/media',
    'server/http',
    'server/observability',
    'server/store',
    'server/sfu',
    'server/transcode',
    'server/packager',
    'server/ingest',
    'server/egress',
    'server/origin',
    'server/core',
  ],
  'server/api': [...BASE, 'server/http', 'server/store', 'server/core', 'server/auth', 'server/webhooks'],
  'server/ui': BASE,
  'server/app.ts': '*',
  'server/main.ts': '*',
  components: ['lib'],
  app: ['lib', 'components'],
  // Outside the product: tests may start the server and read any part of it; the helpers are shared.
  'test/helpers': ['lib', 'components', 'scripts', ...SERVER_PARTS],
  test: ['lib', 'components', 'scripts', 'test/helpers', ...SERVER_PARTS],
  e2e: ['lib', 'components', 'test/helpers', 'playwright.config.ts', ...SERVER_PARTS],
  bench: ['lib', 'components', 'test/helpers', ...SERVER_PARTS],
  scripts: ['lib', ...SERVER_PARTS],
  'playwright.config.ts': ['lib', 'test/helpers'],
};

const TOPS = [
  'lib',
  'server',
  'components',
  'app',
  'test',
  'e2e',
  'bench',
  'scripts',
  'playwright.config.ts',
];

/** The part a file belongs to: the longest rule key that contains it. */
export function partOf(relative: string): string | undefined {
  let best: string | undefined;
  for (const key of Object.keys(RULES)) {
    if (relative === key || relative.startsWith(`${key}/`)) {
      if (!best || key.length > best.length) best = key;
    }
  }
  return best;
}

const QUOTED = String.raw`['"]([^'"\n]+)['"]`;
const STATIC = new RegExp(String.raw`(?:^|\n|;)\s*(?:import|export)\s[^'"]*?\sfrom\s+${QUOTED}`, 'g');
const SIDE_EFFECT = new RegExp(String.raw`(?:^|\n|;)\s*import\s*${QUOTED}`, 'g');
const DYNAMIC = new RegExp(String.raw`\bimport\(\s*${QUOTED}\s*\)`, 'g');
const REQUIRE_MAKER = /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*createRequire\(/g;

/** Every module specifier a source file loads, in order of kind (static, side effect, dynamic, require). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const re of [STATIC, SIDE_EFFECT, DYNAMIC]) for (const m of source.matchAll(re)) out.push(m[1]!);
  const requirers = ['require', ...[...source.matchAll(REQUIRE_MAKER)].map((m) => m[1]!)];
  for (const name of requirers) {
    const call = new RegExp(
      String.raw`(?<![\w$.])${name.replace(/\$/g, '\\$')}(?:\.resolve)?\(\s*${QUOTED}\s*\)`,
      'g',
    );
    for (const m of source.matchAll(call)) out.push(m[1]!);
  }
  return out;
}

/** The file a specifier names, relative to the root, or undefined for a package. */
export function resolveSpecifier(fromRelative: string, spec: string): string | undefined {
  let target: string;
  if (spec.startsWith('@/')) target = spec.slice(2);
  else if (spec.startsWith('.')) target = path.posix.join(path.posix.dirname(fromRelative), spec);
  else return undefined;
  return path.posix.normalize(target);
}

function walk(dir: string, files: string[] = []): string[] {
  if (!existsSync(dir)) return files;
  if (!statSync(dir).isDirectory()) return [...files, dir];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, files);
    else if (/\.(ts|tsx|mts|cts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) files.push(full);
  }
  return files;
}

function allowedFor(part: string, rel: string, targetPart: string): boolean {
  const allowed = RULES[part]!;
  if (allowed === '*' || targetPart === part) return true;
  // The engine selection alone names the engines.
  if (rel === ENGINE_SELECTION && targetPart.startsWith('server/sfu/')) return true;
  return allowed.includes(targetPart);
}

export function violations(root = ROOT): string[] {
  const problems: string[] = [];
  for (const top of TOPS) {
    for (const file of walk(path.join(root, top))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const part = partOf(rel);
      if (!part) {
        problems.push(`${rel}: belongs to no part; add it to RULES in scripts/check-layers.ts`);
        continue;
      }
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const target = resolveSpecifier(rel, spec);
        if (target === undefined) continue; // a package
        const targetPart = partOf(target);
        if (!targetPart || !allowedFor(part, rel, targetPart)) {
          problems.push(
            `${rel} imports ${target} (${targetPart ?? 'outside every part'}): not allowed for ${part}`,
          );
        }
      }
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = violations();
  if (problems.length > 0) {
    process.stderr.write(`Imports that run upward (scripts/check-layers.ts):\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write('layers: no upward imports\n');
}
