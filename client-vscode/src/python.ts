/**
 * The Python extension (ms-python.python), when it is installed: the active
 * interpreter of a folder and a signal when it changes.
 *
 * Only the parts of its public API that have been stable for years are used
 * (`environments.getActiveEnvironmentPath` / `resolveEnvironment` /
 * `onDidChangeActiveEnvironmentPath`, with `settings.getExecutionDetails` as
 * the older fallback), typed here rather than through another dependency.
 * Any failure of the other extension means "no interpreter from it": the
 * caller falls back to `python3`.
 */

import * as vscode from 'vscode';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

interface EnvironmentPath {
  readonly id: string;
  readonly path: string;
}

interface PythonApi {
  readonly ready?: Thenable<void>;
  readonly environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(env: EnvironmentPath | string): Thenable<{ executable: { uri?: vscode.Uri } } | undefined>;
    readonly onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
  readonly settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
    readonly onDidChangeExecutionDetails?: vscode.Event<unknown>;
  };
}

async function api(): Promise<PythonApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    const exported = ext.isActive ? ext.exports : await ext.activate();
    if (exported?.ready) {
      await exported.ready;
    }
    return exported;
  } catch {
    return undefined;
  }
}

/** True when the Python extension is installed (active or not). */
export function hasPythonExtension(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

/** The active interpreter's command line for `resource`, or `undefined`. */
export async function activeInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
  const py = await api();
  if (!py) {
    return undefined;
  }
  try {
    if (py.environments) {
      const active = py.environments.getActiveEnvironmentPath(resource);
      const resolved = await py.environments.resolveEnvironment(active);
      const exe = resolved?.executable.uri?.fsPath;
      if (exe) {
        return [exe];
      }
    }
    const cmd = py.settings?.getExecutionDetails(resource).execCommand;
    return cmd && cmd.length > 0 ? cmd : undefined;
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the Python extension's active interpreter changes. */
export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const py = await api();
  const event = py?.environments?.onDidChangeActiveEnvironmentPath ?? py?.settings?.onDidChangeExecutionDetails;
  return event ? event(() => listener()) : undefined;
}
