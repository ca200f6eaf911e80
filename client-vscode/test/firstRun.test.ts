/**
 * The first run acted out (firstRun.ts) against the stubbed `vscode` module
 * and real Python processes: the consent modal, a refusal remembered, the
 * install with consent, a too old Python, an existing private environment.
 */
import { strict as assert } from 'assert';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, test } from 'node:test';
import { install, stub } from './vscodeStub';
import type { InstallOptions } from '../src/privateEnv';

install();
const firstRun: typeof import('../src/firstRun') = require('../src/firstRun');
const privateEnv: typeof import('../src/privateEnv') = require('../src/privateEnv');
const secrets: typeof import('../src/secrets') = require('../src/secrets');

beforeEach(() => stub.reset());

const env = secrets.buildServerEnv({ PATH: process.env.PATH }, {});
// -I: no user site and no PYTHONPATH, so this Python has no specloop.
const bare = { command: 'python3', args: ['-I'], source: 'default' as const };

function extension() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-first-run-'));
  const ext = path.join(root, 'ext');
  mkdirSync(path.join(ext, 'client-vscode', 'dist'), { recursive: true });
  const wheel = path.join(ext, 'client-vscode', 'dist', 'specloop-0.1.0-py3-none-any.whl');
  writeFileSync(wheel, 'wheel bytes');
  const state = new Map<string, unknown>();
  const logged: string[] = [];
  const installs: InstallOptions[] = [];
  const phases: string[] = [];
  const host = {
    output: { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) } as never,
    extensionRoot: ext,
    storageDir: path.join(root, 'storage'),
    state: { get: <T>(k: string) => state.get(k) as T, update: async (k: string, v: unknown) => { state.set(k, v); }, keys: () => [...state.keys()] },
    installing: (detail: string) => phases.push(detail),
    install: async (options: InstallOptions) => {
      installs.push(options);
      options.reporter.step('installing');
      const dir = privateEnv.envDir(options.storageDir);
      return { ok: true as const, python: privateEnv.privatePython(dir), dir };
    },
  };
  return { root, ext, wheel, state, logged, installs, phases, host };
}

test('first use: a modal asks; refused, nothing is installed, the refusal is kept and the error offers the install', async () => {
  const x = extension();
  stub.messageAnswers = [undefined];     // the modal's Cancel
  const result = await firstRun.serverPython(x.host, bare, env, x.root);
  const modal = stub.recorded.messages[0];
  assert.equal(modal.message, "Install specloop's server into a private environment?");
  assert.equal(modal.modal, true);
  assert.deepEqual(modal.items, ['Install']);
  assert.match(modal.detail ?? '', /python3 -I \(the default\), Python 3\.\d+\.\d+, does not have it/);
  assert.equal(x.installs.length, 0);
  assert.equal(x.state.get(firstRun.DECLINED_KEY), true);
  assert.ok('failure' in result && result.failure.reason === 'not-installed' && result.failure.canInstallPrivately, JSON.stringify(result));
  if ('failure' in result) {
    assert.match(result.failure.message, /specloop-0\.1\.0-py3-none-any\.whl/);
    assert.doesNotMatch(result.failure.message, /pip install specloop\b/);
  }

  // The next start does not ask again.
  const again = await firstRun.serverPython(x.host, bare, env, x.root);
  assert.equal(stub.recorded.messages.length, 1, 'no second modal');
  assert.ok('failure' in again && again.failure.canInstallPrivately);
});

test('consent given: the bundled wheel is installed with the chosen Python, under a cancellable notification', async () => {
  const x = extension();
  stub.messageAnswers = ['Install'];
  const result = await firstRun.serverPython(x.host, bare, env, x.root);
  assert.equal(x.installs.length, 1);
  const options = x.installs[0];
  assert.deepEqual(options.base, bare);
  assert.equal(options.wheel, x.wheel);
  assert.equal(options.reason, 'first');
  assert.equal(options.storageDir, x.host.storageDir);
  assert.deepEqual(stub.recorded.progress.map((p) => [p.title, p.location, p.cancellable]),
    [['specloop: installing the server into a private environment', 15, true]]);
  assert.deepEqual(stub.recorded.progress[0].reports, [{ message: 'installing' }]);
  assert.deepEqual(x.phases, ['installing the server into a private environment']);
  const dir = privateEnv.envDir(x.host.storageDir);
  assert.deepEqual(result, { python: privateEnv.privatePython(dir), location: dir });
  assert.ok(!Object.keys(options.env).some((k) => k.endsWith('_API_KEY')), 'pip gets no keys');
});

test('a Python older than 3.11 is named with its version; no modal, no install', async () => {
  const x = extension();
  const old = path.join(x.root, 'python3.9');
  writeFileSync(old, '#!/bin/sh\necho \'{"version": [3, 9, 2], "executable": "/opt/py39/bin/python3.9", "venv": false}\'\n');
  chmodSync(old, 0o755);
  const result = await firstRun.serverPython(x.host, { command: old, args: [], source: 'python-extension' }, env, x.root);
  assert.equal(stub.recorded.messages.length, 0);
  assert.equal(x.installs.length, 0);
  assert.ok('failure' in result && result.failure.reason === 'too-old', JSON.stringify(result));
  if ('failure' in result) {
    assert.match(result.failure.message, /^specloop needs Python 3\.11 or newer, but .*python3\.9 \(the Python extension's interpreter\) is Python 3\.9\.2\./);
  }
});

test('a Python that has specloop is used as it is: no modal, no install', async () => {
  const x = extension();
  const site = path.join(x.root, 'site');
  mkdirSync(path.join(site, 'specloop'), { recursive: true });
  writeFileSync(path.join(site, 'specloop', '__init__.py'), '');
  writeFileSync(path.join(site, 'specloop', '__main__.py'), '');
  const python = { command: 'python3', args: [], source: 'setting' as const };
  const result = await firstRun.serverPython(x.host, python, { ...env, PYTHONPATH: site }, x.root);
  assert.deepEqual(result, { python, location: path.join(site, 'specloop') });
  assert.equal(stub.recorded.messages.length, 0);
});
