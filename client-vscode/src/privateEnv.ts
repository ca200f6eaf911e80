/**
 * specloop's private environment: a venv in the extension's global storage
 * with the wheel the `.vsix` carries, as Microsoft's Python tool extensions
 * do. Only node's `fs` and `child_process` are used (no `vscode`), so the
 * install is tested with a real Python and a real venv.
 *
 * Decisions:
 * - The venv is built in a fresh temp folder next to its final place and
 *   renamed into place only when it is complete (marker written), so a
 *   cancelled or failed install leaves nothing half-made, and two windows
 *   installing at once do not write into one folder: the second rename finds
 *   the first one's environment and keeps it. The server always runs as
 *   `<env>/bin/python -m specloop serve`, which does not care that the venv
 *   was renamed (only console-script shebangs would).
 * - pip runs as `python -m pip install --no-input <wheel>`; the wheel's
 *   dependencies come from PyPI (or the user's pip configuration: index,
 *   proxy, certificates via PIP_* variables and pip.conf are respected).
 * - An update (another wheel in a newer extension) reinstalls the wheel in
 *   place with `--force-reinstall --no-deps`, then lets pip add any new
 *   dependency.
 * - Cancelling kills the running step's whole process group.
 */

import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import type { PythonCommand } from './interpreter';
import type { Bundle, EnvMarker } from './setup';

/** The environment's folder name inside the storage folder. */
export const ENV_FOLDER = 'server-env';
/** The marker of a finished install, inside the environment. */
export const MARKER_FILE = 'specloop-env.json';
/** Where `npm run package` puts the wheel, relative to the extension's root. */
export const WHEEL_DIR = path.join('client-vscode', 'dist');

/** The venv's Python. */
export function envPython(dir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** The private environment's folder under the storage folder. */
export function envDir(storageDir: string): string {
  return path.join(storageDir, ENV_FOLDER);
}

/** The private environment's Python as a command. */
export function privatePython(dir: string, platform: NodeJS.Platform = process.platform): PythonCommand {
  return { command: envPython(dir, platform), args: [], source: 'private' };
}

/** The marker of a finished install, or undefined. */
export async function readMarker(dir: string): Promise<EnvMarker | undefined> {
  try {
    const raw = JSON.parse(await fs.readFile(path.join(dir, MARKER_FILE), 'utf8')) as Partial<EnvMarker>;
    return typeof raw.wheel === 'string' && typeof raw.wheelHash === 'string'
      ? { wheel: raw.wheel, wheelHash: raw.wheelHash, base: String(raw.base ?? ''), installedAt: String(raw.installedAt ?? '') }
      : undefined;
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether the folder exists. */
export const folderExists = exists;

/** sha256 of a file, hex. */
export async function fileHash(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** Compares wheel versions like `0.1.10` > `0.1.9` (numeric parts first, then text). */
function versionKey(name: string): number[] {
  const m = /^specloop-([^-]+)-/.exec(name);
  return (m ? m[1] : '0').split(/[.+]/).map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
}

/** What the installed extension carries: the newest specloop wheel in its dist folder, and a checkout if it runs from one. */
export async function findBundle(extensionRoot: string): Promise<Bundle> {
  const dist = path.join(extensionRoot, WHEEL_DIR);
  let names: string[] = [];
  try {
    names = (await fs.readdir(dist)).filter((n) => /^specloop-.+\.whl$/.test(n));
  } catch {
    // no dist folder
  }
  names.sort((a, b) => {
    const ka = versionKey(a);
    const kb = versionKey(b);
    for (let i = 0; i < Math.max(ka.length, kb.length); i += 1) {
      const d = (ka[i] ?? 0) - (kb[i] ?? 0);
      if (d !== 0) {
        return d;
      }
    }
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const newest = names.pop();
  let checkout: string | undefined;
  try {
    const pyproject = await fs.readFile(path.join(extensionRoot, 'pyproject.toml'), 'utf8');
    checkout = /^name\s*=\s*["']specloop["']/m.test(pyproject) ? extensionRoot : undefined;
  } catch {
    // an installed .vsix: no pyproject.toml
  }
  if (!newest) {
    return { checkout };
  }
  const wheel = path.join(dist, newest);
  return { wheel, wheelHash: await fileHash(wheel), checkout };
}

/** A cancellation signal (VS Code's CancellationToken fits). */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

/** What the install reports while it runs. */
export interface InstallReporter {
  /** A line of a step's output (for the output channel). */
  log(line: string): void;
  /** A new step, in words (for the progress notification). */
  step(message: string): void;
}

export interface InstallOptions {
  readonly storageDir: string;
  /** The Python that makes the venv (first, repair), or the environment's own (update). */
  readonly base: PythonCommand;
  readonly wheel: string;
  readonly wheelHash: string;
  readonly reason: 'first' | 'repair' | 'update';
  readonly env: Record<string, string>;
  readonly reporter: InstallReporter;
  readonly token?: Cancellation;
  readonly platform?: NodeJS.Platform;
}

export type InstallResult =
  | { readonly ok: true; readonly python: PythonCommand; readonly dir: string }
  | { readonly ok: false; readonly cancelled: boolean; readonly message: string };

class StepFailed extends Error {}
class Cancelled extends Error {}

/** Runs one command, streaming its output lines to the reporter; the last lines are kept for the error. */
function run(command: string, args: string[], options: InstallOptions, what: string): Promise<void> {
  const { reporter, token } = options;
  if (token?.isCancellationRequested) {
    return Promise.reject(new Cancelled());
  }
  reporter.log(`$ ${[command, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const posix = (options.platform ?? process.platform) !== 'win32';
    let child: ChildProcess;
    try {
      child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: posix, windowsHide: true });
    } catch (error) {
      reject(new StepFailed(`${what}: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    let cancelled = false;
    const sub = token?.onCancellationRequested(() => {
      cancelled = true;
      try {
        if (posix && child.pid) {
          process.kill(-child.pid, 'SIGTERM');   // pip's own children (builds) too
        } else {
          child.kill();
        }
      } catch {
        // already gone
      }
    });
    const onData = (buffer: Buffer) => {
      for (const line of buffer.toString('utf8').split(/\r?\n/)) {
        if (line.trim()) {
          reporter.log(line);
          tail.push(line);
          if (tail.length > 12) {
            tail.shift();
          }
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (error) => {
      sub?.dispose();
      reject(new StepFailed(`${what}: ${error.message}`));
    });
    child.on('close', (code) => {
      sub?.dispose();
      if (cancelled) {
        reject(new Cancelled());
      } else if (code === 0) {
        resolve();
      } else {
        const last = tail.filter((l) => !/^\s*(Collecting|Downloading|Using cached|Requirement already)/.test(l)).slice(-4);
        reject(new StepFailed(`${what} failed (exit status ${code})${last.length ? `: ${last.join(' ').replace(/\s+/g, ' ').trim()}` : ''}`));
      }
    });
  });
}

async function writeMarker(dir: string, options: InstallOptions): Promise<void> {
  const marker: EnvMarker = {
    wheel: path.basename(options.wheel),
    wheelHash: options.wheelHash,
    base: [options.base.command, ...options.base.args].join(' '),
    installedAt: new Date().toISOString(),
  };
  await fs.writeFile(path.join(dir, MARKER_FILE), JSON.stringify(marker, null, 2) + '\n', 'utf8');
}

const PIP = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input'];

/**
 * Creates (first, repair) or updates the private environment. Never throws:
 * the result says what went wrong in a sentence that names the failing step
 * and its last output lines (e.g. Debian's "apt install python3.11-venv").
 */
export async function installPrivateEnv(options: InstallOptions): Promise<InstallResult> {
  const platform = options.platform ?? process.platform;
  const dir = envDir(options.storageDir);
  const { reporter } = options;
  let tmp: string | undefined;
  try {
    if (options.reason === 'update') {
      const python = envPython(dir, platform);
      reporter.step(`updating specloop (${path.basename(options.wheel)})`);
      await run(python, [...PIP, '--force-reinstall', '--no-deps', options.wheel], options, 'pip install (update)');
      reporter.step('checking dependencies');
      await run(python, [...PIP, options.wheel], options, 'pip install (dependencies)');
      await writeMarker(dir, options);
      return { ok: true, python: privatePython(dir, platform), dir };
    }
    await fs.mkdir(options.storageDir, { recursive: true });
    tmp = await fs.mkdtemp(path.join(options.storageDir, `${ENV_FOLDER}.partial-`));
    reporter.step(`creating a virtual environment with ${options.base.command}`);
    await run(options.base.command, [...options.base.args, '-m', 'venv', tmp], options, 'python -m venv');
    reporter.step(`installing ${path.basename(options.wheel)} and its dependencies from PyPI`);
    await run(envPython(tmp, platform), [...PIP, options.wheel], options, 'pip install');
    await writeMarker(tmp, options);
    if (await exists(dir)) {
      if (options.reason === 'first' && await readMarker(dir)) {
        // Another window finished first: keep its environment.
        await fs.rm(tmp, { recursive: true, force: true });
        tmp = undefined;
        return { ok: true, python: privatePython(dir, platform), dir };
      }
      await fs.rm(dir, { recursive: true, force: true });   // the broken one being repaired
    }
    await fs.rename(tmp, dir);
    tmp = undefined;
    return { ok: true, python: privatePython(dir, platform), dir };
  } catch (error) {
    if (error instanceof Cancelled) {
      return { ok: false, cancelled: true, message: "specloop: installing the server was cancelled; nothing was left behind." };
    }
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, cancelled: false, message: `specloop: installing the server into ${dir} failed: ${detail}` };
  } finally {
    if (tmp) {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
