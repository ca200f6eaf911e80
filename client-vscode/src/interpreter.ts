/**
 * Which Python runs `specloop serve`, and what that Python is.
 *
 * Pure functions (no `vscode`), so the choice is unit-tested:
 * 1. the `specloop.server.python` setting when it is not empty;
 * 2. else the Python extension's active interpreter, when that extension is
 *    installed and reports one (it may be a command with arguments, e.g.
 *    `conda run -n env python`);
 * 3. else `python3` from PATH.
 * (What happens when that Python lacks specloop — the private environment —
 * is decided in setup.ts.)
 *
 * The probe runs `<python> -c <script>` before the server starts and prints
 * one JSON line: the Python's version, whether it is a virtual environment,
 * whether pip can install into it (pip present, not "externally managed" as
 * Debian's system Python is), and where specloop is. So a missing install or
 * a too old Python is reported with a command that fixes it instead of a
 * crashed server's traceback. The probe looks specloop up without importing
 * it (importing pulls litellm, seconds on a cold machine), and its script
 * parses on Python 2 too, so that an ancient `python` is reported as too old.
 */

import { execFile } from 'child_process';
import * as os from 'os';
import * as path from 'path';

/** Where the chosen Python came from (shown to the user). */
export type PythonSource = 'setting' | 'python-extension' | 'default' | 'private';

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

/** The oldest Python specloop runs on (pyproject.toml: requires-python). */
export const MIN_PYTHON: readonly [number, number] = [3, 11];

/** The probe's script: one JSON line on stdout (see {@link ProbeInfo}). Python 2 syntax too. */
export const PROBE_SCRIPT = [
  'import json, os, sys',
  'info = {"version": list(sys.version_info[:3]), "executable": sys.executable,',
  '        "venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix)}',
  `if sys.version_info >= (${MIN_PYTHON[0]}, ${MIN_PYTHON[1]}):`,
  '    import importlib.util, sysconfig',
  '    try:',
  '        spec = importlib.util.find_spec("specloop")',
  '        ok = bool(spec and spec.submodule_search_locations and importlib.util.find_spec("specloop.__main__"))',
  '    except Exception:',
  '        spec, ok = None, False',
  '    info["specloop"] = list(spec.submodule_search_locations)[0] if ok else None',
  '    if ok:',
  '        try:',
  '            import importlib.metadata',
  '            info["specloop_version"] = importlib.metadata.version("specloop")',
  '        except Exception:',
  '            pass',
  '    info["pip"] = importlib.util.find_spec("pip") is not None',
  '    stdlib = sysconfig.get_path("stdlib")',
  '    info["externally_managed"] = bool(not info["venv"] and stdlib and',
  '                                      os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED")))',
  'sys.stdout.write(json.dumps(info) + "\\n")',
].join('\n');

/** The probe's arguments after the interpreter's own. */
export function probeArgs(python: PythonCommand): string[] {
  return [...python.args, '-c', PROBE_SCRIPT];
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

/** What the probe found out about a Python that runs. */
export interface ProbeInfo {
  readonly version: readonly number[];
  readonly executable: string;
  readonly venv: boolean;
  /** specloop's package folder, or null when it is not installed (undefined: Python too old to look). */
  readonly specloop?: string | null;
  readonly specloopVersion?: string;
  /** pip is importable. */
  readonly pip?: boolean;
  /** A system Python that refuses `pip install` (PEP 668, e.g. Debian's /usr/bin/python3). */
  readonly externallyManaged?: boolean;
}

/** A probe run, understood. */
export type ProbeOutcome =
  | { readonly kind: 'ok'; readonly info: ProbeInfo }
  | { readonly kind: 'no-python'; readonly code: string }
  | { readonly kind: 'broken'; readonly detail: string };

/** Reads a probe run: the JSON line, or why there is none. */
export function parseProbe(run: ProbeRun): ProbeOutcome {
  if (run.errorCode === 'ENOENT' || run.errorCode === 'EACCES') {
    return { kind: 'no-python', code: run.errorCode };
  }
  if (run.timedOut) {
    return { kind: 'broken', detail: "it did not answer within the probe's time limit" };
  }
  if (run.exitCode === 0) {
    const line = run.stdout.trim().split('\n').pop() ?? '';
    try {
      const raw = JSON.parse(line) as Record<string, unknown>;
      const version = Array.isArray(raw.version) ? raw.version.filter((n): n is number => typeof n === 'number') : [];
      if (version.length >= 2) {
        return {
          kind: 'ok',
          info: {
            version,
            executable: typeof raw.executable === 'string' ? raw.executable : '',
            venv: raw.venv === true,
            specloop: typeof raw.specloop === 'string' ? raw.specloop : raw.specloop === null ? null : undefined,
            specloopVersion: typeof raw.specloop_version === 'string' ? raw.specloop_version : undefined,
            pip: typeof raw.pip === 'boolean' ? raw.pip : undefined,
            externallyManaged: typeof raw.externally_managed === 'boolean' ? raw.externally_managed : undefined,
          },
        };
      }
    } catch {
      // fall through: not the probe's output
    }
    return { kind: 'broken', detail: `unexpected probe output: ${line.slice(0, 200) || '(nothing)'}` };
  }
  const detail = (run.stderr.trim().split('\n').pop() ?? '').slice(0, 300) || `exit status ${run.exitCode}`;
  return { kind: 'broken', detail };
}

/** True when the version is at least {@link MIN_PYTHON}. */
export function isRecentEnough(version: readonly number[]): boolean {
  const [major = 0, minor = 0] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** `3.11.7` */
export function versionText(version: readonly number[]): string {
  return version.join('.');
}

/** Quotes a command-line word for a POSIX shell or cmd when it needs it. */
export function shellQuote(word: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(word)) {
    return word;
  }
  return platform === 'win32' ? `"${word.replace(/"/g, '""')}"` : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A Python's command line as a user would type it. */
export function commandText(python: PythonCommand, platform: NodeJS.Platform = process.platform): string {
  return [python.command, ...python.args].map((w) => shellQuote(w, platform)).join(' ');
}

/** Where the chosen Python came from, for messages: `python3 (the default)`. */
export function describe(python: PythonCommand): string {
  const line = [python.command, ...python.args].join(' ');
  const from = python.source === 'setting' ? 'from specloop.server.python'
    : python.source === 'python-extension' ? "the Python extension's interpreter"
    : python.source === 'private' ? "specloop's private environment" : 'the default';
  return `${line} (${from})`;
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
