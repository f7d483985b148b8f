/**
 * The hls.js and dash.js UMD builds a Chromium page loads with page.addScriptTag (E2E players
 * and the bench's delay measurements).
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
/** hls.js's UMD build: defines the global `Hls`. */
export const HLS_JS = require.resolve('hls.js/dist/hls.min.js');
/** dash.js 5's UMD build (package export "script"): defines the global `dashjs`. */
export const DASH_JS = path.join(
  import.meta.dirname,
  '..',
  '..',
  'node_modules',
  'dashjs',
  'dist',
  'modern',
  'umd',
  'dash.all.min.js',
);
