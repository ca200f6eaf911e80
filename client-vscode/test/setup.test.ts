/**
 * The first-run decision (setup.ts): which Python runs the server, when the
 * private environment is offered, installed, updated or used, and what every
 * error tells the user to run.
 */
import { strict as assert } from 'assert';
import { test } from 'node:test';
import type { ProbeInfo, ProbeOutcome, PythonCommand } from '../src/interpreter';
import { consentText, decideSetup, installHint, PrivateEnvState, SetupInput } from '../src/setup';

const WHEEL = '/ext/client-vscode/dist/specloop-0.1.0-py3-none-any.whl';
const bundle = { wheel: WHEEL, wheelHash: 'h1' };
const py3: PythonCommand = { command: 'python3', args: [], source: 'default' };
const fromExt: PythonCommand = { command: '/proj/.venv/bin/python', args: [], source: 'python-extension' };
const fromSetting: PythonCommand = { command: '/usr/bin/python3', args: [], source: 'setting' };
const privatePy: PythonCommand = { command: '/storage/server-env/bin/python', args: [], source: 'private' };

function info(extra: Partial<ProbeInfo> = {}): ProbeInfo {
  return { version: [3, 11, 7], executable: '/usr/bin/python3', venv: false, specloop: null, pip: true, externallyManaged: false, ...extra };
}
const ok = (extra: Partial<ProbeInfo> = {}): ProbeOutcome => ({ kind: 'ok', info: info(extra) });
const withSpecloop = (where = '/site/specloop'): ProbeOutcome => ok({ specloop: where, specloopVersion: '0.1.0' });

const noEnv: PrivateEnvState = { python: privatePy, dir: '/storage/server-env', exists: false };
const readyEnv = (hash = 'h1'): PrivateEnvState => ({
  python: privatePy, dir: '/storage/server-env', exists: true,
  marker: { wheel: 'specloop-0.1.0-py3-none-any.whl', wheelHash: hash, base: 'python3', installedAt: '' },
  probe: withSpecloop('/storage/server-env/lib/python3.11/site-packages/specloop'),
});

function decide(partial: Partial<SetupInput>) {
  return decideSetup({ chosen: py3, probe: ok(), privateEnv: noEnv, bundle, declined: false, platform: 'linux', ...partial });
}

test('a Python that has specloop runs the server, whatever the private environment holds', () => {
  assert.deepEqual(decide({ chosen: fromExt, probe: withSpecloop('/proj/server/specloop'), privateEnv: readyEnv() }),
    { kind: 'use', python: fromExt, location: '/proj/server/specloop' });
  assert.deepEqual(decide({ chosen: fromSetting, probe: withSpecloop() }), { kind: 'use', python: fromSetting, location: '/site/specloop' });
});

test('first use without specloop anywhere: ask before installing, with the chosen Python as the base', () => {
  const d = decide({});
  assert.deepEqual(d, { kind: 'install', base: py3, baseVersion: '3.11.7', reason: 'first', askConsent: true });
  const text = consentText(py3, '3.11.7', '/storage/server-env', bundle);
  assert.equal(text.message, "Install specloop's server into a private environment?");
  assert.match(text.detail, /python3 \(the default\), Python 3\.11\.7, does not have it/);
  assert.match(text.detail, /\/storage\/server-env/);
  assert.match(text.detail, /specloop-0\.1\.0-py3-none-any\.whl/);
  assert.match(text.detail, /PyPI/);
});

test('consent refused: no install, an error that offers it as a button and a command that works by hand', () => {
  const d = decide({ declined: true });
  assert.equal(d.kind, 'fail');
  if (d.kind === 'fail') {
    assert.equal(d.reason, 'not-installed');
    assert.equal(d.canInstallPrivately, true);
    assert.equal(d.installCommand, `python3 -m pip install ${WHEEL}`);
    assert.match(d.message, /Install it with: python3 -m pip install \/ext\/client-vscode\/dist\/specloop-0\.1\.0-py3-none-any\.whl/);
    assert.match(d.message, /"Install privately"/);
    assert.doesNotMatch(d.message, /pip install specloop\b/, 'specloop is not on PyPI');
  }
});

test('a finished private environment is used when the chosen Python lacks specloop', () => {
  const d = decide({ privateEnv: readyEnv() });
  assert.deepEqual(d, { kind: 'use', python: privatePy, location: '/storage/server-env/lib/python3.11/site-packages/specloop' });
  // Even when the chosen Python is too old or missing: the environment has its own.
  assert.equal(decide({ privateEnv: readyEnv(), probe: ok({ version: [3, 9, 2], specloop: undefined }) }).kind, 'use');
  assert.equal(decide({ privateEnv: readyEnv(), probe: { kind: 'no-python', code: 'ENOENT' } }).kind, 'use');
});

test('an updated extension (another wheel) updates the private environment without asking', () => {
  assert.deepEqual(decide({ privateEnv: readyEnv('old-hash') }),
    { kind: 'install', base: privatePy, baseVersion: '3.11.7', reason: 'update', askConsent: false });
});

test('a half-made or broken private environment is rebuilt without asking again', () => {
  const partial: PrivateEnvState = { ...noEnv, exists: true };
  assert.deepEqual(decide({ privateEnv: partial }), { kind: 'install', base: py3, baseVersion: '3.11.7', reason: 'repair', askConsent: false });
  const broken: PrivateEnvState = { ...readyEnv(), probe: { kind: 'no-python', code: 'ENOENT' } };
  assert.equal(decide({ privateEnv: broken }).kind, 'install');
});

test('specloop.server.python is the user\'s choice: never replaced by the private environment', () => {
  const d = decide({ chosen: fromSetting, probe: ok({ pip: true, externallyManaged: false }), privateEnv: readyEnv() });
  assert.equal(d.kind, 'fail');
  if (d.kind === 'fail') {
    assert.equal(d.canInstallPrivately, false);
    assert.equal(d.installCommand, `/usr/bin/python3 -m pip install ${WHEEL}`);
    assert.match(d.message, /^specloop is not installed for \/usr\/bin\/python3 \(from specloop\.server\.python\)\. Install it with: /);
    assert.match(d.message, /clear the setting/);
  }
});

test('a Python pip cannot install into gets a venv command instead (externally managed, or no pip)', () => {
  for (const extra of [{ externallyManaged: true }, { pip: false }]) {
    const d = decide({ chosen: fromSetting, probe: ok(extra) });
    assert.ok(d.kind === 'fail', JSON.stringify(d));
    if (d.kind === 'fail') {
      assert.equal(d.installCommand, `/usr/bin/python3 -m venv ~/.specloop-venv && ~/.specloop-venv/bin/python -m pip install ${WHEEL}`);
      assert.match(d.message, /pip cannot install into it/);
      assert.match(d.message, /then set specloop\.server\.python to ~\/\.specloop-venv\/bin\/python/);
    }
  }
  assert.deepEqual(installHint({ command: 'C:\\Python312\\python.exe', args: [], source: 'setting' }, info({ pip: false }),
    { wheel: 'C:\\ext\\specloop-0.1.0-py3-none-any.whl' }, 'win32'), {
    command: 'C:\\Python312\\python.exe -m venv %USERPROFILE%\\.specloop-venv && %USERPROFILE%\\.specloop-venv\\Scripts\\python.exe ' +
      '-m pip install C:\\ext\\specloop-0.1.0-py3-none-any.whl',
    intoVenv: '%USERPROFILE%\\.specloop-venv\\Scripts\\python.exe',
  });
});

test('a path with spaces is quoted in the hint', () => {
  const hint = installHint({ command: '/opt/my py/bin/python', args: [], source: 'setting' }, info(), { wheel: '/home/a b/specloop.whl' }, 'linux');
  assert.equal(hint?.command, "'/opt/my py/bin/python' -m pip install '/home/a b/specloop.whl'");
});

test('Python older than 3.11: said with its version, nothing installed, no install command', () => {
  for (const chosen of [py3, fromSetting, fromExt]) {
    const d = decide({ chosen, probe: ok({ version: [3, 10, 12], specloop: undefined }) });
    assert.ok(d.kind === 'fail' && d.reason === 'too-old', JSON.stringify(d));
    if (d.kind === 'fail') {
      assert.match(d.message, /^specloop needs Python 3\.11 or newer, but .* is Python 3\.10\.12\./);
      assert.equal(d.installCommand, undefined);
      assert.equal(d.canInstallPrivately, false);
    }
  }
});

test('no Python at all: said, with where to get one', () => {
  const d = decide({ probe: { kind: 'no-python', code: 'ENOENT' } });
  assert.ok(d.kind === 'fail' && d.reason === 'no-python');
  if (d.kind === 'fail') {
    assert.match(d.message, /cannot run Python python3 \(the default\): not found\. specloop needs Python 3\.11 or newer/);
  }
  const s = decide({ chosen: fromSetting, probe: { kind: 'no-python', code: 'ENOENT' } });
  assert.ok(s.kind === 'fail' && /Set specloop\.server\.python to a Python 3\.11 or newer/.test(s.message));
});

test('a Python that crashes is reported as broken', () => {
  const d = decide({ probe: { kind: 'broken', detail: 'ImportError: boom' } });
  assert.deepEqual(d, { kind: 'fail', reason: 'broken', message: 'specloop: Python python3 (the default) failed: ImportError: boom', canInstallPrivately: false });
});

test('without a bundled wheel: a checkout is installed from its folder, else the user is told to reinstall', () => {
  const fromCheckout = decide({ bundle: { checkout: '/src/specloop' } });
  assert.ok(fromCheckout.kind === 'fail' && fromCheckout.installCommand === 'python3 -m pip install /src/specloop', JSON.stringify(fromCheckout));
  assert.ok(fromCheckout.kind === 'fail' && !fromCheckout.canInstallPrivately);
  const nothing = decide({ bundle: {} });
  assert.ok(nothing.kind === 'fail' && nothing.installCommand === undefined && /carries no server wheel/.test(nothing.message));
});

test('without file storage (no private environment possible): the hint only', () => {
  const d = decide({ privateEnv: undefined });
  assert.ok(d.kind === 'fail' && !d.canInstallPrivately && d.installCommand === `python3 -m pip install ${WHEEL}`);
});
