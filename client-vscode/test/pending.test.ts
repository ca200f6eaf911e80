/** Results the server did not apply (pending.ts): what is announced once, and how it reads. */
import { strict as assert } from 'assert';
import { test } from 'node:test';
import {
  announcement, diffTitle, fileName, parsePreview, parseProposedQuery, PendingTracker, proposedQuery, shortName,
} from '../src/pending';

const area = { uri: 'file:///ws/geo.py', target: 'area', status: 'failed', summary: 'failed: 1/3 tests passed' };
const perimeter = { uri: 'file:///ws/geo.py', target: 'perimeter', status: 'failed', summary: 'failed: 0/2 tests passed' };

test('each pending result is announced once, and again after it left the list', () => {
  const tracker = new PendingTracker();
  assert.deepEqual(tracker.update([area]), [area]);
  assert.deepEqual(tracker.update([area]), [], 'a status notification repeats the list: no second announcement');
  assert.deepEqual(tracker.update([area, perimeter]), [perimeter]);
  const retried = { ...area, summary: 'failed: 2/3 tests passed' };
  assert.deepEqual(tracker.update([retried, perimeter]), [retried], 'a new job\'s result on the same function is new');
  assert.deepEqual(tracker.update([perimeter]), []);
  assert.deepEqual(tracker.update([perimeter, retried]), [retried], 'it left (applied, replaced) and came back');
  assert.equal(tracker.find('file:///ws/geo.py', 'perimeter'), perimeter);
  tracker.reset();
  assert.deepEqual(tracker.list, []);
  assert.deepEqual(tracker.update([perimeter]), [perimeter]);
});

test('a discarded result is no longer counted, until a newer result replaces it', () => {
  const tracker = new PendingTracker();
  tracker.update([area, perimeter]);
  tracker.discard(area.uri, area.target);
  assert.deepEqual(tracker.visible(), [perimeter]);
  assert.deepEqual(tracker.update([area, perimeter]), []);
  assert.deepEqual(tracker.visible([area, perimeter]), [perimeter]);
  const retried = { ...area, summary: 'failed: 2/3 tests passed' };
  assert.deepEqual(tracker.update([retried, perimeter]), [retried]);
  assert.deepEqual(tracker.visible(), [retried, perimeter]);
});

test('the announcement and the diff title name the function and what happened', () => {
  assert.equal(announcement(area), 'specloop: area failed 1/3 tests passed');
  assert.equal(announcement({ ...area, summary: '' }), 'specloop: area failed');
  assert.equal(announcement({ ...area, status: 'passed', summary: 'passed: 3/3 tests passed; the spec changed meanwhile' }),
    'specloop: area passed 3/3 tests passed; the spec changed meanwhile');
  assert.equal(diffTitle(area), "geo.py ↔ specloop's area (failed: 1/3 tests passed)");
  assert.equal(shortName('Shape.area'), 'area');
  assert.equal(fileName('file:///ws/my%20file.py'), 'my file.py');
});

test('a proposal URI\'s query round-trips any document URI and target', () => {
  const uri = 'file:///c%3A/ws/a&b=c.py?x#y';
  assert.deepEqual(parseProposedQuery(proposedQuery(uri, 'Shape.area')), { uri, target: 'Shape.area' });
  assert.equal(parseProposedQuery('uri=x'), undefined);
});

test('previewResult answers are read leniently', () => {
  assert.equal(parsePreview(null), undefined);
  assert.equal(parsePreview({ uri: 'u', target: 't' }), undefined);
  assert.deepEqual(parsePreview({ uri: 'u', target: 't', proposed: 'new', original: 'old', status: 'failed' }),
    { uri: 'u', target: 't', status: 'failed', summary: '', original: 'old', proposed: 'new' });
});
