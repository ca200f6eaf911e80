import { strict as assert } from 'assert';
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { newestRun, runsDir } from '../src/runs';

function folderWithRuns(files: Record<string, number>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-runs-'));
  mkdirSync(runsDir(root), { recursive: true });
  for (const [name, seconds] of Object.entries(files)) {
    const file = path.join(runsDir(root), name);
    writeFileSync(file, '{"event":"x"}\n');
    utimesSync(file, seconds, seconds);
  }
  return root;
}

test('the newest trace by modification time, across folders', async () => {
  const a = folderWithRuns({ 'z-old.jsonl': 1000, 'a-new.jsonl': 3000 });
  const b = folderWithRuns({ 'mid.jsonl': 2000 });
  mkdirSync(path.join(runsDir(b), 'subdir'));
  assert.equal((await newestRun([a, b]))?.path, path.join(runsDir(a), 'a-new.jsonl'));
  const c = folderWithRuns({ 'newest.jsonl': 4000 });
  assert.equal((await newestRun([a, b, c]))?.path, path.join(runsDir(c), 'newest.jsonl'));
});

test('no runs folder or an empty one: none', async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'specloop-runs-'));
  assert.equal(await newestRun([empty]), undefined);
  assert.equal(await newestRun([]), undefined);
  assert.equal(await newestRun([folderWithRuns({})]), undefined);
});
