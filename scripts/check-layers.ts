/**
 * Nothing imports upward. Each part of the tree may import only the parts
 * listed for it (and npm packages): protocols and the packager never reach for
 * the HTTP server or the control plane, `core/` never reaches for `api/`, the
 * browser code never reaches for `server/`. Run by `npm run lint`.
 *
 *   node scripts/check-layers.ts        # exit 1 and a list when a rule is broken
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const BASE = ['lib', 'server/log.ts'];
/** part → the parts it may import (besides itself). Lower parts come first. */
export const RULES: Record<string, readonly string[] | '*'> = {
  lib: [],
  'server/log.ts': ['lib'],
  'server/config.ts': ['lib'],
  'server/media': BASE,
  'server/observability': BASE,
  'server/store': BASE,
  'server/http': [...BASE, 'server/media'],
  'server/sfu': [...BASE, 'server/config.ts', 'server/media'],
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
};

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

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) out.push((m[1] ?? m[2])!);
  return out;
}

function walk(dir: string, files: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, files);
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts')) files.push(full);
  }
  return files;
}

export function violations(root = ROOT): string[] {
  const problems: string[] = [];
  for (const top of ['lib', 'server', 'components', 'app']) {
    for (const file of walk(path.join(root, top))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      const part = partOf(rel);
      if (!part) {
        problems.push(`${rel}: belongs to no part; add it to RULES in scripts/check-layers.ts`);
        continue;
      }
      const allowed = RULES[part]!;
      if (allowed === '*') continue;
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue; // a package
        const target = path
          .relative(root, path.resolve(path.dirname(file), spec))
          .split(path.sep)
          .join('/');
        const targetPart = partOf(target);
        if (targetPart === part) continue;
        if (!targetPart || !allowed.includes(targetPart)) {
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
