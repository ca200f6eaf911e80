/**
 * Work-done progress as notifications (progress.ts): one per job, its phase
 * and percentage, Cancel sent to the server once, closed by the server's end
 * or when the server goes away.
 */
import { strict as assert } from 'assert';
import { test } from 'node:test';
import { ProgressEnded, ProgressNotifications } from '../src/progress';

interface Opened {
  title: string;
  cancellable: boolean;
  cancel: () => void;
  reports: Array<{ message?: string; increment?: number }>;
  closed: boolean;
}

function setup() {
  const opened: Opened[] = [];
  const cancels: Array<string | number> = [];
  const ended: ProgressEnded[] = [];
  const tracker = new ProgressNotifications((title, cancellable, cancel) => {
    const entry: Opened = { title, cancellable, cancel, reports: [], closed: false };
    opened.push(entry);
    return { report: (v) => entry.reports.push(v), close: () => { entry.closed = true; } };
  }, (token) => cancels.push(token), (e) => ended.push(e));
  return { tracker, opened, cancels, ended };
}

test('a job\'s progress is a cancellable notification with its phase and percentage', () => {
  const { tracker, opened } = setup();
  assert.equal(tracker.handle('specloop-1', { kind: 'begin', title: 'specloop: area', cancellable: true, message: 'starting', percentage: 0 }), false,
    'begin is not passed on: the library would show its own status-bar spinner');
  assert.equal(opened.length, 1);
  assert.deepEqual({ title: opened[0].title, cancellable: opened[0].cancellable }, { title: 'specloop: area', cancellable: true });
  assert.equal(tracker.handle('specloop-1', { kind: 'report', message: 'generating', percentage: 10 }), false);
  tracker.handle('specloop-1', { kind: 'report', message: 'testing: 1/3 passed', percentage: 40 });
  tracker.handle('specloop-1', { kind: 'report', message: 'fixing', percentage: 30 });     // never backwards
  tracker.handle('specloop-1', { kind: 'report', message: 'reviewing' });
  assert.deepEqual(opened[0].reports, [
    { message: 'starting', increment: undefined },
    { message: 'generating', increment: 10 },
    { message: 'testing: 1/3 passed', increment: 30 },
    { message: 'fixing', increment: undefined },
    { message: 'reviewing' },
  ]);
  assert.equal(tracker.handle('specloop-1', { kind: 'end', message: 'passed: 3/3 tests passed' }), true,
    'end is passed on, so the library forgets the token');
  assert.equal(opened[0].closed, true);
  assert.equal(tracker.size, 0);
});

test('Cancel sends window/workDoneProgress/cancel once; the notification closes when the server ends the job', () => {
  const { tracker, opened, cancels, ended } = setup();
  tracker.handle(7, { kind: 'begin', title: 'specloop: add', cancellable: true, percentage: 0 });
  opened[0].cancel();
  opened[0].cancel();
  assert.deepEqual(cancels, [7]);
  assert.equal(opened[0].closed, false, 'open until the server confirms');
  tracker.handle(7, { kind: 'end', message: 'cancelled' });
  assert.equal(opened[0].closed, true);
  assert.deepEqual(ended, [{ title: 'specloop: add', message: 'cancelled', cancelRequested: true }]);
  opened[0].cancel();
  assert.deepEqual(cancels, [7], 'nothing is sent for an ended job');
});

test('several jobs at once each have their own notification; a non-cancellable one has no Cancel', () => {
  const { tracker, opened, ended } = setup();
  tracker.handle('a', { kind: 'begin', title: 'specloop: a', cancellable: true });
  tracker.handle('b', { kind: 'begin', title: 'specloop: b' });
  assert.deepEqual(opened.map((o) => [o.title, o.cancellable]), [['specloop: a', true], ['specloop: b', false]]);
  tracker.handle('b', { kind: 'end', message: 'error: no sandbox' });
  assert.deepEqual(opened.map((o) => o.closed), [false, true]);
  assert.deepEqual(ended.map((e) => e.message), ['error: no sandbox']);
  tracker.handle('zzz', { kind: 'report', message: 'unknown token' });
  assert.equal(opened.length, 2);
});

test('the server going away closes every notification', () => {
  const { tracker, opened } = setup();
  tracker.handle('a', { kind: 'begin', title: 'specloop: a', cancellable: true });
  tracker.handle('b', { kind: 'begin', title: 'specloop: b', cancellable: true });
  tracker.clear();
  assert.deepEqual(opened.map((o) => o.closed), [true, true]);
  assert.equal(tracker.size, 0);
  assert.equal(tracker.handle('a', { kind: 'end' }), true);
});
