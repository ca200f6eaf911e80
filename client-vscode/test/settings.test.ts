import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { test } from 'node:test';
import {
  explicitValue, keyOfField, needsRestart, SERVER_SETTINGS, toServerSettings, touchesServerSettings,
} from '../src/settings';

const repo = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
const properties: Record<string, { default?: unknown }> = manifest.contributes.configuration.properties;

/** The field names of the server's Settings model, read from its source. */
function serverFields(): string[] {
  const source = readFileSync(path.join(repo, 'server', 'specloop', 'settings.py'), 'utf8');
  const body = source.slice(source.indexOf('class Settings('), source.indexOf('\nFIELDS'));
  return [...body.matchAll(/^ {4}([a-z_][a-z0-9_]*)\s*:/gm)].map((m) => m[1]).filter((f) => f !== 'model_config');
}

test('maps camelCase settings to the server fields and sends only what the user set', () => {
  const table: Record<string, object> = {
    maxIterations: { defaultValue: 3, globalValue: 5 },
    apiBase: { defaultValue: null, workspaceValue: 'http://127.0.0.1:9/v1' },
    critic: { defaultValue: true, workspaceFolderValue: false },
    candidates: { defaultValue: 1 },                       // default only: not sent
    model: { defaultValue: null, globalValue: '   ' },     // blank: not sent
    testPython: { defaultValue: null, globalValue: '/usr/bin/python3' },
    costBudgetUsd: { defaultValue: null, globalValue: null },
  };
  const sent = toServerSettings((key) => table[key]);
  assert.deepEqual(sent, {
    api_base: 'http://127.0.0.1:9/v1',
    max_iterations: 5,
    critic: false,
    python: '/usr/bin/python3',
  });
});

test('the most specific scope wins', () => {
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2 }), 2);
  assert.equal(explicitValue({ globalValue: 'a', workspaceValue: '' }), 'a');
  assert.equal(explicitValue({ defaultValue: 7 }), undefined);
  assert.equal(explicitValue(undefined), undefined);
  assert.equal(explicitValue({ globalValue: false }), false);
  assert.equal(explicitValue({ globalValue: 0 }), 0);
});

test('every server setting has a contributed setting and every contributed one is mapped', () => {
  const fields = serverFields();
  assert.ok(fields.length >= 20, `parsed ${fields.length} fields`);
  assert.deepEqual([...SERVER_SETTINGS.map((m) => m.field)].sort(), [...fields].sort());
  for (const { key } of SERVER_SETTINGS) {
    assert.ok(properties[`specloop.${key}`], `specloop.${key} is contributed`);
  }
  const contributed = Object.keys(properties).map((k) => k.slice('specloop.'.length));
  for (const key of contributed) {
    assert.ok(key === 'server.python' || SERVER_SETTINGS.some((m) => m.key === key), `${key} is mapped or client-only`);
  }
  assert.equal(keyOfField('max_iterations'), 'maxIterations');
  assert.equal(keyOfField('python'), 'testPython');
  assert.equal(keyOfField('nope'), undefined);
});

function venvPython(): string | undefined {
  const candidates = [process.env.SPECLOOP_TEST_PYTHON, path.join(repo, '.venv', 'bin', 'python')];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

test('the Settings UI defaults are the server defaults, and the server accepts them', { skip: !venvPython() && process.env.SPECLOOP_REQUIRE_E2E !== '1' && 'no Python with pydantic' }, () => {
  const python = venvPython()!;
  const everything = Object.fromEntries(SERVER_SETTINGS.map(({ key, field }) => [field, properties[`specloop.${key}`].default]));
  const script = [
    'import json, sys',
    "sys.path.insert(0, sys.argv[1])",
    'from specloop.settings import Settings, load_settings',
    'sent = json.loads(sys.argv[2])',
    "print(json.dumps({'defaults': Settings().model_dump(), 'loaded': load_settings(None, sent, env={}, overrides_origin='editor').model_dump()}))",
  ].join('\n');
  const out = JSON.parse(execFileSync(python, ['-c', script, path.join(repo, 'server'), JSON.stringify(everything)], { encoding: 'utf8' }));
  for (const { key, field } of SERVER_SETTINGS) {
    assert.deepEqual(properties[`specloop.${key}`].default, out.defaults[field], `default of specloop.${key}`);
  }
  assert.deepEqual(out.loaded, out.defaults);
});

test('restart-worthy and forwarded changes are told apart', () => {
  const only = (key: string) => (k: string) => k === key;
  assert.equal(needsRestart(only('specloop.server.python')), true);
  assert.equal(needsRestart(only('specloop.model')), false);
  assert.equal(touchesServerSettings(only('specloop.model')), true);
  assert.equal(touchesServerSettings(only('specloop.server.python')), false);
  assert.equal(touchesServerSettings(only('python.defaultInterpreterPath')), false);
});
