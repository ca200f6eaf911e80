// Builds specloop's wheel into client-vscode/dist/ so that the .vsix carries the language server: on first use
// the extension installs it into a private environment (see src/privateEnv.ts). Run by `npm run package`.
//
// The build runs on a copy of pyproject.toml, README.md and server/ in a temp folder, so that setuptools'
// build/ and egg-info never land in the working tree (other people's files live there) and a stale build/lib
// cannot smuggle deleted modules into the wheel. The Python is $SPECLOOP_BUILD_PYTHON, else the checkout's
// .venv, else python3; its setuptools builds the wheel when it has one recent enough (no download), otherwise
// pip fetches setuptools from PyPI in an isolated build environment.
import { execFileSync } from 'child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { fileURLToPath } from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const dist = path.join(repo, 'client-vscode', 'dist');
const venvPython = path.join(repo, '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
const python = process.env.SPECLOOP_BUILD_PYTHON || (existsSync(venvPython) ? venvPython : 'python3');

const skip = (src) => {
  const name = path.basename(src);
  return !(name === '__pycache__' || name.endsWith('.pyc') || name.endsWith('.egg-info') || name === 'build');
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'specloop-wheel-'));
try {
  for (const name of ['pyproject.toml', 'README.md', 'LICENSE', 'LICENSE.txt', 'LICENSE.md']) {
    if (existsSync(path.join(repo, name))) {
      cpSync(path.join(repo, name), path.join(tmp, name));
    }
  }
  cpSync(path.join(repo, 'server'), path.join(tmp, 'server'), { recursive: true, filter: skip });

  let isolation = ['--no-build-isolation'];
  try {
    execFileSync(python, ['-c', 'import setuptools, sys; sys.exit(0 if int(setuptools.__version__.split(".")[0]) >= 70 else 1)'],
      { stdio: 'ignore' });
  } catch {
    isolation = [];   // no (recent) setuptools in that Python: let pip fetch one
  }
  const out = path.join(tmp, 'wheelhouse');
  execFileSync(python, ['-m', 'pip', 'wheel', '--no-deps', '--disable-pip-version-check', '--quiet', ...isolation,
    '--wheel-dir', out, tmp], { stdio: ['ignore', 'inherit', 'inherit'], cwd: tmp });
  const wheels = readdirSync(out).filter((f) => /^specloop-.*\.whl$/.test(f));
  if (wheels.length !== 1) {
    throw new Error(`expected one specloop wheel, got ${JSON.stringify(wheels)}`);
  }
  for (const old of existsSync(dist) ? readdirSync(dist).filter((f) => /^specloop-.*\.whl$/.test(f)) : []) {
    rmSync(path.join(dist, old));
  }
  cpSync(path.join(out, wheels[0]), path.join(dist, wheels[0]));
  console.log(`client-vscode/dist/${wheels[0]} (built with ${python})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
