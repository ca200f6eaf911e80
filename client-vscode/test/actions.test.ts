import { strict as assert } from 'assert';
import { test } from 'node:test';
import { commandOf, noActionReason, pickSpecAction, WireAction } from '../src/actions';

const generate = (name: string): WireAction => ({
  title: `Implement ${name} from spec`, kind: 'refactor.rewrite.specloop',
  command: { title: 'Implement', command: 'specloop.generate', arguments: [{ uri: 'file:///a.py', target: name }] },
});

test('picks the generate action among others', () => {
  const actions: WireAction[] = [
    { title: 'Organize imports', kind: 'source.organizeImports', command: { command: 'other.x' } },
    { title: 'Implement all', kind: 'refactor.rewrite.specloop.all', command: { command: 'specloop.generateAll', arguments: [] } },
    generate('add'),
  ];
  assert.equal(pickSpecAction(actions)?.title, 'Implement add from spec');
  assert.deepEqual(commandOf(pickSpecAction(actions)!)?.arguments, [{ uri: 'file:///a.py', target: 'add' }]);
});

test('a bare Command works, a disabled action does not, an unresolved one is resolved later', () => {
  assert.equal(pickSpecAction([{ title: 'Implement', command: 'specloop.generate', arguments: [1] }])?.title, 'Implement');
  const disabled = { ...generate('x'), disabled: { reason: 'a job already runs for x' } };
  assert.equal(pickSpecAction([disabled]), undefined);
  assert.equal(noActionReason([disabled]), 'a job already runs for x');
  const lazy: WireAction = { title: 'Implement y', kind: 'refactor.rewrite.specloop', data: { id: 1 } };
  assert.equal(pickSpecAction([lazy]), lazy);
  assert.equal(pickSpecAction([{ title: 'Other', kind: 'quickfix', data: {} }]), undefined);
});

test('no action: the reason says where a spec must be', () => {
  assert.equal(pickSpecAction([]), undefined);
  assert.equal(pickSpecAction(null), undefined);
  assert.match(noActionReason([]), /docstring/);
});
