/**
 * Which Python runs the server, and what to do when none has specloop: the
 * decision behind the first run. Pure (no `vscode`, no processes), so every
 * branch is unit-tested; server.ts gathers the facts (probes, the private
 * environment's marker, the bundled wheel) and acts on the decision.
 *
 * specloop is not on PyPI, so `pip install specloop` is never suggested. The
 * `.vsix` carries specloop's wheel; the order is:
 *
 * 1. `specloop.server.python`, when set, is the user's explicit choice: it is
 *    used if it has specloop, else the error says how to install the bundled
 *    wheel into it (or into a new venv, when pip cannot install there: a
 *    Debian-style "externally managed" system Python or one without pip).
 * 2. Otherwise the Python extension's interpreter (else `python3`) is used
 *    when it has specloop — e.g. a development checkout installed with
 *    `pip install -e .`.
 * 3. Otherwise specloop's private environment in the extension's global
 *    storage, when a finished install is there. A bundled wheel that differs
 *    from the installed one (the extension was updated) is installed into it
 *    first, without asking again.
 * 4. Otherwise, with the user's consent (a modal asked once; a refusal is
 *    remembered and the error then offers the install as a button), the
 *    private environment is created with that Python (`python -m venv`) and
 *    the bundled wheel is installed into it (its dependencies come from
 *    PyPI). A half-made environment (no marker) is rebuilt without asking.
 *
 * The chosen Python must be 3.11 or newer (specloop's requires-python); an
 * older one is named with its version and no install is attempted.
 */

import {
  commandText, describe, MIN_PYTHON, ProbeInfo, ProbeOutcome, PythonCommand, shellQuote, versionText, isRecentEnough,
} from './interpreter';

/** What the extension carries. */
export interface Bundle {
  /** specloop's wheel inside the installed extension (absolute path). */
  readonly wheel?: string;
  /** The wheel's sha256: a different one than the installed marker's means the extension was updated. */
  readonly wheelHash?: string;
  /** A specloop checkout the extension runs from (development: the manifest sits next to pyproject.toml). */
  readonly checkout?: string;
}

/** Written into the private environment after a finished install. */
export interface EnvMarker {
  readonly wheel: string;
  readonly wheelHash: string;
  /** The Python the environment was made with. */
  readonly base: string;
  readonly installedAt: string;
}

/** The private environment as found on disk. */
export interface PrivateEnvState {
  /** Its Python (`<dir>/bin/python`), source `private`. */
  readonly python: PythonCommand;
  readonly dir: string;
  /** The folder exists. */
  readonly exists: boolean;
  /** The marker of a finished install, if any. */
  readonly marker?: EnvMarker;
  /** The probe of its Python (only when the marker is there). */
  readonly probe?: ProbeOutcome;
}

/** The facts the decision is made from. */
export interface SetupInput {
  readonly chosen: PythonCommand;
  readonly probe: ProbeOutcome;
  /** undefined when the extension has no file storage (no private environment possible). */
  readonly privateEnv?: PrivateEnvState;
  readonly bundle: Bundle;
  /** The user refused the private environment before. */
  readonly declined: boolean;
  readonly platform?: NodeJS.Platform;
}

export type SetupDecision =
  | { readonly kind: 'use'; readonly python: PythonCommand; readonly location: string }
  | {
    readonly kind: 'install';
    /** The Python that makes the venv (first, repair) or the environment's own Python (update). */
    readonly base: PythonCommand;
    readonly baseVersion: string;
    readonly reason: 'first' | 'repair' | 'update';
    /** True: ask first (a modal). */
    readonly askConsent: boolean;
  }
  | {
    readonly kind: 'fail';
    readonly reason: 'no-python' | 'too-old' | 'broken' | 'not-installed';
    readonly message: string;
    /** A command line that fixes it, for a "Copy install command" button. */
    readonly installCommand?: string;
    /** Offer "Install privately" (the private environment is possible). */
    readonly canInstallPrivately: boolean;
  };

const MIN = `${MIN_PYTHON[0]}.${MIN_PYTHON[1]}`;

/** The folder of the venv the install hint creates when pip cannot install into the Python itself. */
export function hintVenv(platform: NodeJS.Platform): { dir: string; python: string } {
  return platform === 'win32'
    ? { dir: '%USERPROFILE%\\.specloop-venv', python: '%USERPROFILE%\\.specloop-venv\\Scripts\\python.exe' }
    : { dir: '~/.specloop-venv', python: '~/.specloop-venv/bin/python' };
}

/** How to install specloop for a Python by hand, or undefined when the extension has nothing to install. */
export function installHint(python: PythonCommand, info: ProbeInfo | undefined, bundle: Bundle,
  platform: NodeJS.Platform = process.platform): { command: string; intoVenv?: string } | undefined {
  const what = bundle.wheel ?? bundle.checkout;
  if (!what) {
    return undefined;
  }
  const target = shellQuote(what, platform);
  if (info?.pip !== false && !info?.externallyManaged) {
    return { command: `${commandText(python, platform)} -m pip install ${target}` };
  }
  const venv = hintVenv(platform);
  return {
    command: `${commandText(python, platform)} -m venv ${venv.dir} && ${venv.python} -m pip install ${target}`,
    intoVenv: venv.python,
  };
}

function usable(outcome: ProbeOutcome | undefined): ProbeInfo | undefined {
  return outcome?.kind === 'ok' && typeof outcome.info.specloop === 'string' ? outcome.info : undefined;
}

/** The decision (see the module doc). */
export function decideSetup(input: SetupInput): SetupDecision {
  const { chosen, probe, privateEnv, bundle } = input;
  const platform = input.platform ?? process.platform;
  const fromSetting = chosen.source === 'setting';
  const found = usable(probe);
  if (found) {
    return { kind: 'use', python: chosen, location: found.specloop as string };
  }

  const envReady = !fromSetting && privateEnv?.marker ? usable(privateEnv.probe) : undefined;
  if (envReady && privateEnv) {
    if (bundle.wheel && bundle.wheelHash && privateEnv.marker && privateEnv.marker.wheelHash !== bundle.wheelHash) {
      return { kind: 'install', base: privateEnv.python, baseVersion: versionText(envReady.version), reason: 'update', askConsent: false };
    }
    return { kind: 'use', python: privateEnv.python, location: envReady.specloop as string };
  }

  const canInstallPrivately = !fromSetting && privateEnv !== undefined && bundle.wheel !== undefined;
  const clearSetting = fromSetting && bundle.wheel && privateEnv
    ? ' Or clear the setting and let specloop install itself into a private environment.' : '';

  if (probe.kind === 'no-python') {
    const why = probe.code === 'ENOENT' ? 'not found' : 'not executable';
    const fix = fromSetting
      ? `Set specloop.server.python to a Python ${MIN} or newer, or clear it to use the Python extension's interpreter or python3.`
      : `specloop needs Python ${MIN} or newer: install one (https://www.python.org/downloads/) or set specloop.server.python to it.`;
    return { kind: 'fail', reason: 'no-python', message: `specloop: cannot run Python ${describe(chosen)}: ${why}. ${fix}`, canInstallPrivately: false };
  }
  if (probe.kind === 'broken') {
    return { kind: 'fail', reason: 'broken', message: `specloop: Python ${describe(chosen)} failed: ${probe.detail}`, canInstallPrivately: false };
  }
  const info = probe.info;
  if (!isRecentEnough(info.version)) {
    const where = fromSetting ? 'Set specloop.server.python to' : 'Select (Python extension) or set specloop.server.python to';
    return {
      kind: 'fail',
      reason: 'too-old',
      message: `specloop needs Python ${MIN} or newer, but ${describe(chosen)} is Python ${versionText(info.version)}. ` +
        `${where} a Python ${MIN}+.`,
      canInstallPrivately: false,
    };
  }

  if (canInstallPrivately && privateEnv && !input.declined) {
    // A folder without a finished install (or whose Python broke) was consented to before: rebuild it.
    const reason = privateEnv.exists ? 'repair' : 'first';
    return { kind: 'install', base: chosen, baseVersion: versionText(info.version), reason, askConsent: reason === 'first' };
  }

  const hint = installHint(chosen, info, bundle, platform);
  let message: string;
  if (!hint) {
    message = `specloop is not installed for ${describe(chosen)}, and this build of the extension carries no server ` +
      'wheel. Reinstall the extension from a .vsix made with "npm run package".';
  } else if (hint.intoVenv) {
    const why = info.externallyManaged ? 'an externally managed system Python' : 'it has no pip';
    message = `specloop is not installed for ${describe(chosen)}, and pip cannot install into it (${why}). ` +
      `Install it into a new environment with: ${hint.command} — then set specloop.server.python to ${hint.intoVenv}.`;
  } else {
    message = `specloop is not installed for ${describe(chosen)}. Install it with: ${hint.command}`;
  }
  if (canInstallPrivately) {
    message += ' Or choose "Install privately" to let specloop set up its own environment.';
  }
  return { kind: 'fail', reason: 'not-installed', message: message + clearSetting, installCommand: hint?.command, canInstallPrivately };
}

/** The consent modal's text. */
export function consentText(base: PythonCommand, baseVersion: string, envDir: string, bundle: Bundle): { message: string; detail: string } {
  const wheel = bundle.wheel ? bundle.wheel.split(/[\\/]/).pop() : 'specloop';
  return {
    message: "Install specloop's server into a private environment?",
    detail: `specloop's language server is a Python package, and ${describe(base)}, Python ${baseVersion}, does not have it. ` +
      `specloop can create a virtual environment with that Python in its own storage (${envDir}) and install the ` +
      `bundled ${wheel} there; its dependencies (litellm, pygls, pydantic, pytest, …) are downloaded from PyPI. ` +
      'Nothing outside that folder changes.',
  };
}
