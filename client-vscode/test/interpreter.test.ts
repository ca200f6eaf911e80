import { strict as assert } from 'assert';
import { mkdtempSync, mkdirSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import {
  choosePython, DEFAULT_PYTHON, expandPath, installCommand, interpretProbe, runProbe, serverCommandLine,
} from '../src/interpreter';
import { buildServerEnv } from '../src/secrets';

test('the setting wins over the Python extension, which wins over python3', () => {
  const ext = ['/venvs/a/bin/python'];
  assert.deepEqual(choosePython({ setting: '/opt/py/bin/python', extensionCommand: ext }),
    { command: '/opt/py/bin/python', args: [], source: 'setting' });
  assert.deepEqual(choosePython({ setting: '  ', extensionCommand: ext }),
    { command: '/venvs/a/bin/python', args: [], source: 'python-extension' });
  assert.deepEqual(choosePython({ setting: null, extensionCommand: ['conda', 'run', '-n', 'x', 'python'] }),
    { command: 'conda', args: ['run', '-n', 'x', 'python'], source: 'python-extension' });
  assert.deepEqual(choosePython({ extensionCommand: [] }), { command: DEFAULT_PYTHON, args: [], source: 'default' });
  assert.deepEqual(choosePython({}), { command: DEFAULT_PYTHON, args: [], source: 'default' });
});

test('path settings expand the workspace folder, home and environment variables', () => {
  const input = { workspaceFolder: '/ws', home: '/home/u', env: { VENV: '/v' } };
  assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', input), '/ws/.venv/bin/python');
  assert.equal(expandPath('~/py/bin/python', input), path.join('/home/u', 'py/bin/python'));
  assert.equal(expandPath('${userHome}/x', input), '/home/u/x');
  assert.equal(expandPath('${env:VENV}/bin/python', input), '/v/bin/python');
  assert.equal(choosePython({ setting: '${workspaceFolder}/.venv/bin/python', ...input }).command, '/ws/.venv/bin/python');
});

test('the server runs as `python -m specloop serve`, after any interpreter arguments', () => {
  assert.deepEqual(serverCommandLine({ command: 'conda', args: ['run', 'python'], source: 'python-extension' }),
    { command: 'conda', args: ['run', 'python', '-m', 'specloop', 'serve'] });
});

test('the install command names the very interpreter, quoted for a shell', () => {
  assert.equal(installCommand({ command: '/opt/my py/bin/python', args: [], source: 'setting' }),
    "'/opt/my py/bin/python' -m pip install specloop");
  assert.equal(installCommand({ command: 'python3', args: [], source: 'default' }), 'python3 -m pip install specloop');
});

const env = buildServerEnv({ PATH: process.env.PATH }, {});

test('a real Python without specloop: "not installed" with the exact install command', async () => {
  const python = { command: 'python3', args: ['-I'], source: 'default' as const };   // -I: no user site, no PYTHONPATH
  const verdict = interpretProbe(python, await runProbe(python, env, os.tmpdir()));
  assert.equal(verdict.ok, false);
  assert.ok(!verdict.ok && verdict.reason === 'not-installed', JSON.stringify(verdict));
  assert.ok(!verdict.ok && verdict.message.includes('Install it with: python3 -I -m pip install specloop'), verdict.ok ? '' : verdict.message);
});

test('a real Python that has specloop: found, with its location', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-probe-'));
  mkdirSync(path.join(root, 'specloop'));
  writeFileSync(path.join(root, 'specloop', '__init__.py'), '');
  writeFileSync(path.join(root, 'specloop', '__main__.py'), 'raise SystemExit("must not be imported by the probe")\n');
  const python = { command: 'python3', args: [], source: 'setting' as const };
  const verdict = interpretProbe(python, await runProbe(python, { ...env, PYTHONPATH: root }, root));
  assert.deepEqual(verdict, { ok: true, location: path.join(root, 'specloop') });
});

test('a package without __main__ does not count as installed', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-probe-'));
  mkdirSync(path.join(root, 'specloop'));
  writeFileSync(path.join(root, 'specloop', '__init__.py'), '');
  const python = { command: 'python3', args: [], source: 'setting' as const };
  const verdict = interpretProbe(python, await runProbe(python, { ...env, PYTHONPATH: root }, root));
  assert.ok(!verdict.ok && verdict.reason === 'not-installed');
});

test('a Python that does not exist is reported as such', async () => {
  const python = { command: '/nonexistent/bin/python', args: [], source: 'setting' as const };
  const verdict = interpretProbe(python, await runProbe(python, env));
  assert.ok(!verdict.ok && verdict.reason === 'no-python', JSON.stringify(verdict));
  assert.ok(!verdict.ok && verdict.message.includes('/nonexistent/bin/python') && verdict.message.includes('specloop.server.python'));
});

test('a Python that crashes is reported with its last stderr line', () => {
  const verdict = interpretProbe({ command: 'py', args: [], source: 'default' },
    { exitCode: 1, stdout: '', stderr: 'Traceback...\nImportError: boom\n' });
  assert.ok(!verdict.ok && verdict.reason === 'broken' && verdict.message.endsWith('ImportError: boom'));
});
