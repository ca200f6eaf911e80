import { strict as assert } from 'assert';
import { mkdtempSync, mkdirSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import {
  choosePython, commandText, DEFAULT_PYTHON, expandPath, isRecentEnough, parseProbe, runProbe, serverCommandLine, shellQuote,
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

test('command lines are quoted for a shell where needed', () => {
  assert.equal(commandText({ command: '/opt/my py/bin/python', args: [], source: 'setting' }, 'linux'), "'/opt/my py/bin/python'");
  assert.equal(commandText({ command: 'conda', args: ['run', '-n', 'x y', 'python'], source: 'python-extension' }, 'linux'),
    "conda run -n 'x y' python");
  assert.equal(shellQuote("it's", 'linux'), `'it'\\''s'`);
  assert.equal(shellQuote('C:\\Program Files\\py.exe', 'win32'), '"C:\\Program Files\\py.exe"');
});

test('Python 3.11 is the oldest accepted', () => {
  assert.deepEqual([[3, 10, 12], [3, 11, 0], [3, 12], [4, 0], [2, 7, 18]].map(isRecentEnough), [false, true, true, true, false]);
});

const env = buildServerEnv({ PATH: process.env.PATH }, {});

test('a real Python without specloop: its version, no specloop, and whether pip can install into it', async () => {
  const python = { command: 'python3', args: ['-I'], source: 'default' as const };   // -I: no user site, no PYTHONPATH
  const outcome = parseProbe(await runProbe(python, env, os.tmpdir()));
  assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
  if (outcome.kind === 'ok') {
    assert.equal(outcome.info.specloop, null);
    assert.ok(isRecentEnough(outcome.info.version), JSON.stringify(outcome.info.version));
    assert.equal(typeof outcome.info.pip, 'boolean');
    assert.equal(typeof outcome.info.externallyManaged, 'boolean');
    assert.ok(outcome.info.executable.length > 0);
  }
});

test('a real Python that has specloop: found, with its location, without importing its __main__', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-probe-'));
  mkdirSync(path.join(root, 'specloop'));
  writeFileSync(path.join(root, 'specloop', '__init__.py'), '');
  writeFileSync(path.join(root, 'specloop', '__main__.py'), 'raise SystemExit("must not be imported by the probe")\n');
  const python = { command: 'python3', args: [], source: 'setting' as const };
  const outcome = parseProbe(await runProbe(python, { ...env, PYTHONPATH: root }, root));
  assert.ok(outcome.kind === 'ok' && outcome.info.specloop === path.join(root, 'specloop'), JSON.stringify(outcome));
});

test('a package without __main__, or a module named specloop, does not count as installed', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-probe-'));
  mkdirSync(path.join(root, 'pkg', 'specloop'), { recursive: true });
  writeFileSync(path.join(root, 'pkg', 'specloop', '__init__.py'), '');
  mkdirSync(path.join(root, 'mod'));
  writeFileSync(path.join(root, 'mod', 'specloop.py'), 'x = 1\n');
  const python = { command: 'python3', args: [], source: 'setting' as const };
  for (const dir of ['pkg', 'mod']) {
    const outcome = parseProbe(await runProbe(python, { ...env, PYTHONPATH: path.join(root, dir) }, root));
    assert.ok(outcome.kind === 'ok' && outcome.info.specloop === null, `${dir}: ${JSON.stringify(outcome)}`);
  }
});

test('a Python that does not exist is reported as such', async () => {
  const python = { command: '/nonexistent/bin/python', args: [], source: 'setting' as const };
  assert.deepEqual(parseProbe(await runProbe(python, env)), { kind: 'no-python', code: 'ENOENT' });
});

test('a Python that crashes is reported with its last stderr line; odd output is not taken for a probe', () => {
  assert.deepEqual(parseProbe({ exitCode: 1, stdout: '', stderr: 'Traceback...\nImportError: boom\n' }),
    { kind: 'broken', detail: 'ImportError: boom' });
  assert.equal(parseProbe({ exitCode: 0, stdout: 'hello\n', stderr: '' }).kind, 'broken');
  assert.equal(parseProbe({ exitCode: null, stdout: '', stderr: '', timedOut: true }).kind, 'broken');
  const old = parseProbe({ exitCode: 0, stdout: '{"version": [2, 7, 18], "executable": "/usr/bin/python", "venv": false}\n', stderr: '' });
  assert.ok(old.kind === 'ok' && old.info.specloop === undefined && !isRecentEnough(old.info.version));
});
