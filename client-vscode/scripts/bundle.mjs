// Bundles the extension into client-vscode/dist/extension.js (one CommonJS file, `vscode` external),
// so the .vsix needs no node_modules. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'url';
import path from 'path';

const here = path.dirname(fileURLToPath(import.meta.url));
const options = {
  entryPoints: [path.join(here, '..', 'src', 'extension.ts')],
  outfile: path.join(here, '..', 'dist', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  sourcemap: false,
  minify: process.argv.includes('--minify'),
  logLevel: 'info',
};
if (process.argv.includes('--watch')) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}
