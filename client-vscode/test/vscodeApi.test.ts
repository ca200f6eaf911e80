/**
 * The modules that call VS Code's API, against the stubbed `vscode` module:
 * configuration answers, palette commands, the masked output channel.
 */
import { strict as assert } from 'assert';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeEach, test } from 'node:test';
import { install, stub, StubPosition, StubUri } from './vscodeStub';

install();
const configuration: typeof import('../src/configuration') = require('../src/configuration');
const commands: typeof import('../src/commands') = require('../src/commands');
const output: typeof import('../src/output') = require('../src/output');
const secrets: typeof import('../src/secrets') = require('../src/secrets');

beforeEach(() => stub.reset());

const folderA = StubUri.file('/ws/a');
const folderB = StubUri.file('/ws/b');

test('workspace/configuration: section specloop gets snake_case settings of the asked scope', async () => {
  stub.workspaceFolders = [{ uri: folderA, name: 'a', index: 0 }, { uri: folderB, name: 'b', index: 1 }];
  stub.settings[''] = {
    'specloop.maxIterations': { defaultValue: 3, globalValue: 6 },
    'specloop.model': { defaultValue: null, globalValue: 'openai/scripted' },
  };
  stub.settings[folderB.toString()] = { 'specloop.maxIterations': { defaultValue: 3, globalValue: 6, workspaceFolderValue: 9 } };
  const params = {
    items: [
      { section: 'specloop' },
      { section: 'specloop', scopeUri: folderB.toString() },
      { section: 'specloop.max_iterations', scopeUri: folderB.toString() },
      { section: 'specloop.candidates' },
      { section: 'editor' },
    ],
  };
  const next = async () => [{ camelCase: true }, { camelCase: true }, 'x', 'y', { tabSize: 4 }];
  const answers = await configuration.answerConfiguration(params, undefined, next) as unknown[];
  assert.deepEqual(answers[0], { model: 'openai/scripted', max_iterations: 6 });
  assert.deepEqual(answers[1], { model: 'openai/scripted', max_iterations: 9 });
  assert.equal(answers[2], 9);
  assert.equal(answers[3], null, 'unset field: null, so the server keeps its own value');
  assert.deepEqual(answers[4], { tabSize: 4 }, 'other sections keep VS Code\'s answer');
  assert.ok(stub.recorded.configScopes.includes(folderA.toString()), 'no scopeUri: the first folder');
});

test('workspace/configuration: an error answer passes through', async () => {
  const error = { code: -32603, message: 'x' };
  assert.equal(await configuration.answerConfiguration({ items: [{ section: 'specloop' }] }, undefined, async () => error), error);
});

class FakeServer {
  calls: Array<{ command: string; args: unknown[] }> = [];
  restarts = 0;
  actions: unknown[] = [];
  resolved: unknown = undefined;
  async specActions() { return this.actions; }
  async resolveAction() { return this.resolved; }
  async executeCommand(command: string, args: unknown[]) { this.calls.push({ command, args }); return null; }
  async restart() { this.restarts += 1; }
}

function context(server = new FakeServer()) {
  const secretData = new Map<string, string>();
  const stateData = new Map<string, unknown>();
  const keys = new secrets.ApiKeyStore(
    { get: async (k) => secretData.get(k), store: async (k, v) => { secretData.set(k, v); }, delete: async (k) => { secretData.delete(k); } },
    { get: <T>(k: string) => stateData.get(k) as T, update: async (k, v) => { stateData.set(k, v); } },
  );
  const logged: string[] = [];
  const out = { info: (m: string) => logged.push(m), show() {} };
  return { server, keys, logged, secretData, stateData, ctx: { server, keys, output: out } as never };
}

function pythonEditor(line: number, character: number) {
  stub.activeTextEditor = {
    document: { languageId: 'python', uri: StubUri.file('/ws/a/stub.py') },
    selection: { active: new StubPosition(line, character) },
  };
}

test('Set API key: name from a pick list, key from a password box, kept in secret storage, server restarted', async () => {
  const { ctx, server, keys, logged, secretData, stateData } = context();
  stub.settings[''] = { 'specloop.model': { globalValue: 'anthropic/claude-x' } };
  stub.quickPickAnswers = ['ANTHROPIC_API_KEY'];
  stub.inputAnswers = ['sk-ant-0123456789abcdef'];
  await commands.setApiKey(ctx);
  const offered = stub.recorded.quickPickItems[0] as Array<{ label: string }>;
  assert.equal(offered[0].label, 'ANTHROPIC_API_KEY', 'the model\'s provider variable comes first');
  assert.equal(stub.recorded.inputBoxes.length, 1);
  assert.equal(stub.recorded.inputBoxes[0].password, true);
  assert.deepEqual(await keys.all(), { ANTHROPIC_API_KEY: 'sk-ant-0123456789abcdef' });
  assert.equal(server.restarts, 1);
  assert.deepEqual(stub.recorded.settingsWritten, [], 'nothing goes to settings.json');
  const visible = JSON.stringify([logged, stub.recorded, [...stateData.values()]]);
  assert.ok(!visible.includes('sk-ant-0123456789abcdef'), 'the key is in no message, log or state');
  assert.equal(secretData.size, 1);
});

test('Set API key: another variable name is validated; escape stores nothing', async () => {
  const { ctx, server, keys } = context();
  stub.quickPickAnswers = ['Other…'];
  stub.inputAnswers = ['LD_PRELOAD'];          // refused by validation: the box is escaped
  await commands.setApiKey(ctx);
  assert.deepEqual(keys.storedNames(), []);
  stub.quickPickAnswers = ['Other…'];
  stub.inputAnswers = ['MY_GATEWAY_TOKEN', undefined];   // escape on the key
  await commands.setApiKey(ctx);
  assert.deepEqual(keys.storedNames(), []);
  assert.equal(server.restarts, 0);
  stub.quickPickAnswers = ['Other…'];
  stub.inputAnswers = ['MY_GATEWAY_TOKEN', 'tok-123456'];
  await commands.setApiKey(ctx);
  assert.deepEqual(keys.storedNames(), ['MY_GATEWAY_TOKEN']);
  stub.quickPickAnswers = ['MY_GATEWAY_TOKEN'];
  await commands.removeApiKey(ctx);
  assert.deepEqual(await keys.all(), {});
  assert.equal(server.restarts, 2);
});

test('Implement spec at cursor runs the server\'s generate action with its own arguments', async () => {
  const { ctx, server } = context();
  pythonEditor(3, 4);
  server.actions = [
    { title: 'Implement add from spec', kind: 'refactor.rewrite.specloop',
      command: { command: 'specloop.generate', arguments: [{ uri: 'file:///ws/a/stub.py', target: 'add' }] } },
  ];
  await commands.implementAtCursor(ctx);
  assert.deepEqual(server.calls, [{ command: 'specloop.generate', args: [{ uri: 'file:///ws/a/stub.py', target: 'add' }] }]);
});

test('Implement spec at cursor resolves a lazy action, and explains when there is no spec', async () => {
  const { ctx, server } = context();
  pythonEditor(0, 0);
  server.actions = [{ title: 'Implement f', kind: 'refactor.rewrite.specloop', data: { id: 7 } }];
  server.resolved = { title: 'Implement f', kind: 'refactor.rewrite.specloop', command: { command: 'specloop.generate', arguments: ['f'] } };
  await commands.implementAtCursor(ctx);
  assert.deepEqual(server.calls, [{ command: 'specloop.generate', args: ['f'] }]);
  server.actions = [];
  await commands.implementAtCursor(ctx);
  assert.equal(server.calls.length, 1);
  assert.match(stub.recorded.info[0], /No spec at the cursor/);
});

test('Implement all sends generateAll with the file URI; cancel sends cancel without arguments', async () => {
  const { ctx, server } = context();
  pythonEditor(0, 0);
  await commands.implementFile(ctx);
  await commands.cancelAll(ctx);
  assert.deepEqual(server.calls, [
    { command: 'specloop.generateAll', args: [{ uri: 'file:///ws/a/stub.py' }] },
    { command: 'specloop.cancel', args: [] },
  ]);
  stub.activeTextEditor = { document: { languageId: 'markdown', uri: StubUri.file('/ws/a/x.md') }, selection: {} };
  await commands.implementFile(ctx);
  assert.equal(server.calls.length, 2);
  assert.match(stub.recorded.info[0], /open a Python file/);
});

test('Open the last run\'s trace opens the newest file of .specloop/runs', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-ws-'));
  stub.workspaceFolders = [{ uri: StubUri.file(root), name: 'ws', index: 0 }];
  await commands.openLastTrace();
  assert.match(stub.recorded.info[0], /no run yet/);
  mkdirSync(path.join(root, '.specloop', 'runs'), { recursive: true });
  writeFileSync(path.join(root, '.specloop', 'runs', 'r1.jsonl'), '{}\n');
  await commands.openLastTrace();
  assert.deepEqual(stub.recorded.openedDocuments, [path.join(root, '.specloop', 'runs', 'r1.jsonl')]);
});

test('the output channel masks stored keys in everything written to it', () => {
  const written: string[] = [];
  const channel = {
    name: 'specloop',
    append: (s: string) => written.push(s),
    appendLine: (s: string) => written.push(s),
    error: (e: string | Error) => written.push(String(e)),
    info: (s: string, ...rest: unknown[]) => written.push([s, ...rest].join(' ')),
    show() { return 'shown'; },
  };
  const keys = ['sk-live-abcdef123456'];
  const masked = output.redacting(channel as never, () => keys);
  masked.append('401 invalid key sk-live-abcdef123456\n');
  masked.appendLine('[stderr] Authorization: Bearer sk-live-abcdef123456');
  masked.error(new Error('bad key sk-live-abcdef123456'));
  masked.info('x', 'also sk-live-abcdef123456');
  assert.equal(written.length, 4);
  assert.ok(written.every((w) => !w.includes('sk-live-abcdef123456')), JSON.stringify(written));
  assert.ok(written[0].startsWith('401 invalid key sk-…(redacted)'));
  assert.equal(masked.name, 'specloop');
  assert.equal((masked as unknown as { show(): string }).show(), 'shown');
});

test('every palette command is contributed in the manifest, and every contributed one is registered', () => {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const contributed: string[] = (manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command).sort();
  assert.deepEqual(contributed, Object.values<string>(commands.COMMANDS).sort());
  const menus = manifest.contributes.menus as Record<string, Array<{ command: string; when: string }>>;
  for (const item of [...menus['editor/title'], ...menus.commandPalette]) {
    assert.ok(contributed.includes(item.command), item.command);
    assert.equal(item.when, 'resourceScheme == specloop-proposed', 'Apply / Discard only on a proposal');
  }
});
