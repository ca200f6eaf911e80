/**
 * The review of results the server did not apply (review.ts) against the
 * stubbed `vscode` module: the notification, the diff against a read-only
 * proposal, Apply / Discard from the notification and from the diff's title
 * buttons.
 */
import { strict as assert } from 'assert';
import { beforeEach, test } from 'node:test';
import { install, stub, StubTabInputTextDiff, StubUri } from './vscodeStub';

install();
const review: typeof import('../src/review') = require('../src/review');

beforeEach(() => stub.reset());

const DOC = 'file:///ws/geo.py';
const area = { uri: DOC, target: 'area', status: 'failed', summary: 'failed: 1/3 tests passed' };
const ORIGINAL = 'def area(w, h):\n    """Area."""\n';
const PROPOSED = 'def area(w, h):\n    """Area."""\n    return w + h\n';

class FakeServer {
  calls: Array<{ command: string; args: unknown[] }> = [];
  commands: string[] = ['specloop.generate', 'specloop.previewResult', 'specloop.applyResult'];
  pending = true;
  placeable = true;
  same = false;
  applyAnswer: unknown = { applied: true };
  async executeCommand(command: string, args: unknown[]) {
    this.calls.push({ command, args });
    if (command === 'specloop.previewResult') {
      return this.pending ? { ...area, original: ORIGINAL, proposed: this.placeable ? (this.same ? ORIGINAL : PROPOSED) : null } : null;
    }
    if (command === 'specloop.applyResult') {
      return this.applyAnswer;
    }
    return null;
  }
  serverCommands() {
    return this.commands;
  }
}

function setup() {
  const server = new FakeServer();
  const logged: string[] = [];
  const output = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
  const r = new review.PendingReview(server, output as never);
  return { server, r, logged };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('a new pending result is announced once with Show diff / Apply anyway / Discard', async () => {
  const { r } = setup();
  r.update([area]);
  r.update([area]);
  await flush();
  assert.deepEqual(stub.recorded.messages, [{
    kind: 'warning', message: 'specloop: area failed 1/3 tests passed', items: ['Show diff', 'Apply anyway', 'Discard'],
    modal: undefined, detail: undefined,
  }]);
});

test('Show diff: the document on the left, the read-only proposal on the right, titled with the outcome', async () => {
  const { r, server } = setup();
  stub.messageAnswers = ['Show diff'];
  r.update([area]);
  await flush();
  await flush();
  assert.deepEqual(server.calls[0], { command: 'specloop.previewResult', args: [{ uri: DOC, target: 'area' }] });
  const diff = stub.recorded.commands.find((c) => c.command === 'vscode.diff');
  assert.ok(diff, JSON.stringify(stub.recorded.commands));
  const [left, right, title, options] = diff.args as [StubUri, StubUri, string, unknown];
  assert.equal(left.toString(), DOC);
  assert.equal(right.scheme, 'specloop-proposed');
  assert.equal(right.path, '/ws/geo.py', 'the file name and language stay visible');
  assert.equal(title, "geo.py ↔ specloop's area (failed: 1/3 tests passed)");
  assert.deepEqual(options, { preview: false });
  const provider = stub.contentProviders.get('specloop-proposed');
  assert.ok(provider);
  assert.equal(await provider.provideTextDocumentContent(right), PROPOSED);
});

test('Apply anyway runs specloop.applyResult and closes the diff; a refusal is said', async () => {
  const { r, server } = setup();
  const right = r.proposedUri({ uri: DOC, target: 'area' });
  const tab = { input: new StubTabInputTextDiff(StubUri.parse(DOC), right) };
  stub.tabs = [tab, { input: new StubTabInputTextDiff(StubUri.parse(DOC), StubUri.parse('file:///ws/other.py')) }];
  stub.messageAnswers = ['Apply anyway'];
  r.update([area]);
  await flush();
  await flush();
  assert.deepEqual(server.calls, [{ command: 'specloop.applyResult', args: [{ uri: DOC, target: 'area' }] }]);
  assert.deepEqual(stub.recorded.closedTabs, [tab]);
  server.applyAnswer = { applied: false, detail: 'the editor refused the edit' };
  assert.equal(await r.apply({ uri: DOC, target: 'area' }), false);
  assert.deepEqual(stub.recorded.warnings.slice(-1), ["specloop: area's result was not applied: the editor refused the edit"]);
});

test('Discard closes the diff and changes nothing; the server is told only if it has a discard command', async () => {
  const { r, server, logged } = setup();
  const right = r.proposedUri({ uri: DOC, target: 'area' });
  stub.tabs = [{ input: new StubTabInputTextDiff(StubUri.parse(DOC), right) }];
  r.tracker.update([area]);
  await r.discard({ uri: DOC, target: 'area' });
  assert.deepEqual(server.calls, []);
  assert.deepEqual(r.visible([area]), [], 'no longer counted in the status bar');
  assert.equal(stub.tabs.length, 0);
  assert.ok(logged.some((l) => l.includes('area (geo.py): result discarded')));
  server.commands.push('specloop.discardResult');
  await r.discard({ uri: DOC, target: 'area' });
  assert.deepEqual(server.calls, [{ command: 'specloop.discardResult', args: [{ uri: DOC, target: 'area' }] }]);
});

test('the title buttons act on the diff they belong to; from the palette, on the active diff or a picked result', async () => {
  const { r } = setup();
  const right = r.proposedUri({ uri: DOC, target: 'area' });
  assert.deepEqual(await r.resolve(right), { uri: DOC, target: 'area' });
  stub.activeTab = { input: new StubTabInputTextDiff(StubUri.parse(DOC), right) };
  assert.deepEqual(await r.resolve(undefined), { uri: DOC, target: 'area' });
  stub.activeTab = undefined;
  assert.equal(await r.resolve(StubUri.parse(DOC)), undefined, 'nothing pending: nothing to pick');
  assert.deepEqual(stub.recorded.info, ['specloop: no result is waiting for review.']);
  r.tracker.update([area]);
  stub.quickPickAnswers = ['area'];
  assert.deepEqual(await r.resolve(undefined), area);
});

test('a result that is no longer pending: said, no diff; a restored proposal says so in its text', async () => {
  const { r, server } = setup();
  server.pending = false;
  await r.showDiff({ uri: DOC, target: 'area' });
  assert.deepEqual(stub.recorded.info, ['specloop: the result for area is no longer waiting to be applied.']);
  assert.ok(!stub.recorded.commands.some((c) => c.command === 'vscode.diff'));
  const text = await r.provideTextDocumentContent(r.proposedUri({ uri: DOC, target: 'area' }));
  assert.match(text, /^# specloop: the result for area is no longer waiting/);
});

test('a result that cannot be placed now (the file does not parse) opens on its own via specloop.showResult', async () => {
  const { r, server } = setup();
  server.placeable = false;
  await r.showDiff({ uri: DOC, target: 'area' });
  assert.deepEqual(server.calls.map((c) => c.command), ['specloop.previewResult', 'specloop.showResult']);
  assert.match(stub.recorded.warnings[0], /cannot be placed in the file as it is now/);
  assert.ok(!stub.recorded.commands.some((c) => c.command === 'vscode.diff'));
});

test('editing the document refreshes an open proposal', async () => {
  const { r, server } = setup();
  const right = r.proposedUri({ uri: DOC, target: 'area' });
  stub.textDocuments = [{ uri: right as unknown as StubUri }];
  const fired: string[] = [];
  r.onDidChange((u) => fired.push(u.toString()));
  stub.documentChangeListeners.forEach((l) => l({ document: { uri: StubUri.parse(DOC) } }));
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.deepEqual(server.calls.map((c) => c.command), ['specloop.previewResult']);
  assert.deepEqual(fired, [right.toString()]);
  r.dispose();
});

const NOTHING = 'specloop: area: nothing to apply: the code is already what the result says.';

test('a result that is the code already there: no empty diff, and Apply says "nothing to apply", not a refusal', async () => {
  const { r, server } = setup();
  server.same = true;
  await r.showDiff({ uri: DOC, target: 'area' });
  assert.ok(!stub.recorded.commands.some((c) => c.command === 'vscode.diff'), 'no empty diff');
  assert.deepEqual(stub.recorded.info, [NOTHING]);
  const right = r.proposedUri({ uri: DOC, target: 'area' });
  const tab = { input: new StubTabInputTextDiff(StubUri.parse(DOC), right) };
  stub.tabs = [tab];
  server.applyAnswer = { applied: false, unchanged: true, detail: 'nothing to apply: the code is already what the result says' };
  assert.equal(await r.apply({ uri: DOC, target: 'area' }), true);
  assert.deepEqual(stub.recorded.warnings, [], 'not "was not applied"');
  assert.deepEqual(stub.recorded.info, [NOTHING, NOTHING]);
  assert.deepEqual(stub.recorded.closedTabs, [tab]);
});

test('the offer comes back: "Review results not applied" shows the notification again until the user acts', async () => {
  const { r } = setup();
  r.update([area]);
  await flush();
  await r.review();        // one result waiting: its offer again, no pick
  const offers = stub.recorded.messages.filter((m) => m.message === 'specloop: area failed 1/3 tests passed');
  assert.equal(offers.length, 2);
  assert.deepEqual(offers[1].items, ['Show diff', 'Apply anyway', 'Discard']);
});

test('Discard: the status bar counts again at once', async () => {
  const { r } = setup();
  let changes = 0;
  r.onDidChangeVisible(() => changes++);
  r.tracker.update([area]);
  await r.discard({ uri: DOC, target: 'area' });
  assert.equal(changes, 1);
  assert.deepEqual(r.visible([area]), []);
});
