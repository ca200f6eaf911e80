/**
 * Which Python runs `specloop serve`, and whether specloop is installed there.
 *
 * Pure functions (no `vscode`), so the choice is unit-tested:
 * 1. the `specloop.server.python` setting when it is not empty;
 * 2. else the Python extension's active interpreter, when that extension is
 *    installed and reports one (it may be a command with arguments, e.g.
 *    `conda run -n env python`);
 * 3. else `python3` from PATH.
 *
 * The probe runs `<python> -c <script>` before the server starts so that a
 * missing install is reported with the exact command that fixes it instead of
 * a crashed server's traceback. The probe looks the package up without
 * importing it (importing pulls litellm, seconds on a cold machine).
 */

import { execFile } from 'child_process';
import * as os from 'os';
import * as path from 'path';

/** Where the chosen Python came from (shown to the user). */
export type PythonSource = 'setting' | 'python-extension' | 'default';

/** A Python as a command line: `command` plus leading arguments. */
export interface PythonCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly source: PythonSource;
}

/** What the choice is made from. */
export interface PythonChoiceInput {
  /** The `specloop.server.python` setting (may be empty). */
  readonly setting?: string | null;
  /** The Python extension's command for the active interpreter, if any. */
  readonly extensionCommand?: readonly string[] | null;
  /** The first workspace folder, for `${workspaceFolder}`. */
  readonly workspaceFolder?: string;
  /** The user's home, for `~` and `${userHome}`. */
  readonly home?: string;
  /** The environment, for `${env:NAME}`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The Python used when neither the setting nor the Python extension names one. */
export const DEFAULT_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

/** The module the server is started with: `python -m specloop serve`. */
export const SERVER_MODULE_ARGS = ['-m', 'specloop', 'serve'] as const;

/** The package to install when the probe finds specloop missing. */
export const INSTALL_REQUIREMENT = 'specloop';

/** Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path setting. */
export function expandPath(value: string, input: PythonChoiceInput = {}): string {
  const home = input.home ?? os.homedir();
  let out = value.trim();
  out = out.replace(/\$\{userHome\}/g, home);
  out = out.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => input.env?.[name] ?? '');
  if (input.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, input.workspaceFolder);
  }
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
    out = path.join(home, out.slice(1));
  }
  return out;
}

/** Chooses the Python that runs the server (see the module doc for the order). */
export function choosePython(input: PythonChoiceInput): PythonCommand {
  const setting = (input.setting ?? '').trim();
  if (setting !== '') {
    return { command: expandPath(setting, input), args: [], source: 'setting' };
  }
  const ext = (input.extensionCommand ?? []).filter((part) => part.trim() !== '');
  if (ext.length > 0) {
    return { command: ext[0], args: ext.slice(1), source: 'python-extension' };
  }
  return { command: DEFAULT_PYTHON, args: [], source: 'default' };
}

/** The full command line of the server for a chosen Python. */
export function serverCommandLine(python: PythonCommand): { command: string; args: string[] } {
  return { command: python.command, args: [...python.args, ...SERVER_MODULE_ARGS] };
}

/** Exit status of the probe when the package is not importable. */
export const PROBE_MISSING_EXIT = 3;

/**
 * The probe's arguments: it prints the package folder and exits 0 when
 * `specloop` and its `__main__` can be found, else exits with
 * {@link PROBE_MISSING_EXIT}.
 */
export function probeArgs(python: PythonCommand): string[] {
  const script = [
    'import importlib.util, sys',
    "spec = importlib.util.find_spec('specloop')",
    'ok = spec is not None and importlib.util.find_spec("specloop.__main__") is not None',
    "print(list(spec.submodule_search_locations)[0] if ok else '')",
    `sys.exit(0 if ok else ${PROBE_MISSING_EXIT})`,
  ].join('\n');
  return [...python.args, '-c', script];
}

/** What a probe run produced. */
export interface ProbeRun {
  /** The spawn error's code (e.g. `ENOENT`) when the process did not start. */
  readonly errorCode?: string;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut?: boolean;
}

/** The verdict on a probe run. */
export type ProbeVerdict =
  | { readonly ok: true; readonly location: string }
  | { readonly ok: false; readonly reason: 'no-python' | 'not-installed' | 'broken'; readonly message: string; readonly installCommand?: string };

/** Quotes a command-line word for a POSIX shell or cmd when it needs it. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(word)) {
    return word;
  }
  return process.platform === 'win32' ? `"${word.replace(/"/g, '""')}"` : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The exact command that installs specloop into the chosen Python. */
export function installCommand(python: PythonCommand): string {
  return [python.command, ...python.args, '-m', 'pip', 'install', INSTALL_REQUIREMENT].map(shellQuote).join(' ');
}

function describe(python: PythonCommand): string {
  const line = [python.command, ...python.args].join(' ');
  const from = python.source === 'setting' ? 'from specloop.server.python'
    : python.source === 'python-extension' ? "the Python extension's interpreter" : 'the default';
  return `${line} (${from})`;
}

/** Turns a probe run into a verdict with a message a user can act on. */
export function interpretProbe(python: PythonCommand, run: ProbeRun): ProbeVerdict {
  if (run.errorCode === 'ENOENT' || run.errorCode === 'EACCES') {
    return {
      ok: false,
      reason: 'no-python',
      message: `specloop: cannot run Python ${describe(python)}: ${run.errorCode === 'ENOENT' ? 'not found' : 'not executable'}. ` +
        'Set specloop.server.python to a Python that has specloop installed.',
    };
  }
  if (run.timedOut) {
    return { ok: false, reason: 'broken', message: `specloop: Python ${describe(python)} did not answer within the probe's time limit.` };
  }
  if (run.exitCode === 0) {
    return { ok: true, location: run.stdout.trim() };
  }
  if (run.exitCode === PROBE_MISSING_EXIT) {
    const cmd = installCommand(python);
    return {
      ok: false,
      reason: 'not-installed',
      message: `specloop is not installed for ${describe(python)}. Install it with: ${cmd}`,
      installCommand: cmd,
    };
  }
  const detail = (run.stderr.trim().split('\n').pop() ?? '').slice(0, 300) || `exit status ${run.exitCode}`;
  return { ok: false, reason: 'broken', message: `specloop: Python ${describe(python)} failed: ${detail}` };
}

/** How long the probe may take (a cold interpreter on a slow disk). */
export const PROBE_TIMEOUT_MS = 20_000;

/** Runs the probe with the server's environment and working folder. */
export function runProbe(python: PythonCommand, env: Record<string, string>, cwd?: string): Promise<ProbeRun> {
  return new Promise((resolve) => {
    execFile(python.command, probeArgs(python), { env, cwd, timeout: PROBE_TIMEOUT_MS, windowsHide: true },
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
        resolve({
          errorCode: typeof err?.code === 'string' ? err.code : undefined,
          exitCode: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
          timedOut: Boolean(err?.killed),
        });
      });
  });
}
