/**
 * Finds the last run's trace: the newest file in `<folder>/.specloop/runs/`
 * over all workspace folders. "Newest" is by modification time (a trace is
 * appended to while its job runs), ties broken by name so the answer is
 * stable. Only node's `fs` is used, so it is tested on real temp folders.
 */

import { promises as fs } from 'fs';
import * as path from 'path';

/** The runs folder of a workspace folder. */
export function runsDir(folder: string): string {
  return path.join(folder, '.specloop', 'runs');
}

/** A trace file and when it last changed. */
export interface RunFile {
  readonly path: string;
  readonly mtimeMs: number;
}

async function filesIn(dir: string): Promise<RunFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const out: RunFile[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    try {
      const stat = await fs.stat(full);
      if (stat.isFile()) {
        out.push({ path: full, mtimeMs: stat.mtimeMs });
      }
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** The newest trace file under the given workspace folders, or `undefined` when there is none. */
export async function newestRun(folders: readonly string[]): Promise<RunFile | undefined> {
  let best: RunFile | undefined;
  for (const folder of folders) {
    for (const file of await filesIn(runsDir(folder))) {
      if (!best || file.mtimeMs > best.mtimeMs || (file.mtimeMs === best.mtimeMs && file.path > best.path)) {
        best = file;
      }
    }
  }
  return best;
}
