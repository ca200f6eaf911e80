/**
 * The first run, acted out: gathers the facts setup.ts decides on (probes of
 * the chosen Python and of the private environment, the bundled wheel, a
 * remembered refusal), asks for consent with a modal when the decision says
 * so, and runs the install under a cancellable progress notification with
 * pip's output in the output channel.
 *
 * A refusal is remembered in the extension's global state, so the modal is
 * shown once; afterwards the error offers "Install privately" (and the
 * palette has "specloop: Install the server"), which forgets the refusal and
 * starts again. A failed update of an existing environment keeps the
 * environment that works and says so.
 */

import * as vscode from 'vscode';
import { describe, parseProbe, PythonCommand, runProbe } from './interpreter';
import { envDir, findBundle, folderExists, installPrivateEnv, InstallOptions, InstallResult, privatePython, readMarker } from './privateEnv';
import { buildServerEnv } from './secrets';
import { consentText, decideSetup, PrivateEnvState, SetupDecision } from './setup';

/** globalState key: the user refused the private environment. */
export const DECLINED_KEY = 'specloop.privateEnvironment.declined';

/** A failed setup, as shown to the user. */
export type SetupFailure = Extract<SetupDecision, { kind: 'fail' }>;

/** The consent modal's button. */
export const CONSENT_INSTALL = 'Install';

export interface FirstRunHost {
  readonly output: vscode.LogOutputChannel;
  /** The installed extension's root folder (the wheel is under client-vscode/dist/). */
  readonly extensionRoot: string;
  /** The global storage folder; undefined without file storage. */
  readonly storageDir?: string;
  readonly state: vscode.Memento;
  /** An install starts (for the status bar). */
  installing(detail: string): void;
  /** The installer (tests replace it). */
  readonly install?: (options: InstallOptions) => Promise<InstallResult>;
}

/**
 * The Python that runs the server and where its specloop is, after the
 * consent modal and the install when they are needed; or why there is none.
 */
export async function serverPython(host: FirstRunHost, chosen: PythonCommand, env: Record<string, string>, cwd: string | undefined):
Promise<{ python: PythonCommand; location: string } | { failure: SetupFailure }> {
  const probe = parseProbe(await runProbe(chosen, env, cwd));
  const bundle = await findBundle(host.extensionRoot);
  const storage = host.storageDir;
  let privateEnv: PrivateEnvState | undefined;
  if (storage) {
    const dir = envDir(storage);
    const marker = await readMarker(dir);
    const python = privatePython(dir);
    const needed = chosen.source !== 'setting' && !(probe.kind === 'ok' && typeof probe.info.specloop === 'string');
    privateEnv = {
      python, dir, exists: await folderExists(dir), marker,
      probe: marker && needed ? parseProbe(await runProbe(python, env, cwd)) : undefined,
    };
  }
  const facts = { chosen, probe, privateEnv, bundle, declined: host.state.get<boolean>(DECLINED_KEY) === true };
  let decision = decideSetup(facts);

  if (decision.kind === 'install' && decision.askConsent && storage) {
    const text = consentText(decision.base, decision.baseVersion, envDir(storage), bundle);
    const answer = await vscode.window.showInformationMessage(text.message, { modal: true, detail: text.detail }, CONSENT_INSTALL);
    if (answer !== CONSENT_INSTALL) {
      host.output.info('The private environment was refused; specloop will not ask again ("Install privately" or ' +
        '"specloop: Install the server" installs it later).');
      await host.state.update(DECLINED_KEY, true);
      decision = decideSetup({ ...facts, declined: true });
    }
  }

  if (decision.kind === 'install') {
    if (!storage || !bundle.wheel || !bundle.wheelHash) {
      return { failure: { kind: 'fail', reason: 'not-installed', message: 'specloop: no server wheel to install.', canInstallPrivately: false } };
    }
    host.installing(decision.reason === 'update' ? "updating the server's private environment" : 'installing the server into a private environment');
    const result = await runInstall(host, decision, storage, bundle.wheel, bundle.wheelHash);
    if (result.ok) {
      host.output.info(`specloop's private environment is ready: ${result.dir}`);
      return { python: result.python, location: result.dir };
    }
    if (decision.reason === 'update' && privateEnv) {
      // The environment that is there still works: run it, and try the update again at the next start.
      host.output.warn(`${result.message} — starting the installed server instead.`);
      if (!result.cancelled) {
        void vscode.window.showWarningMessage(`${result.message} The installed server is used meanwhile.`);
      }
      return { python: privateEnv.python, location: privateEnv.dir };
    }
    return { failure: { kind: 'fail', reason: 'not-installed', message: result.message, canInstallPrivately: true } };
  }
  if (decision.kind === 'use') {
    if (decision.python.source === 'private') {
      host.output.info(`${describe(chosen)} has no specloop: using specloop's private environment.`);
    }
    return { python: decision.python, location: decision.location };
  }
  return { failure: decision };
}

/** Runs the install under a cancellable progress notification; pip's output goes to the output channel. */
function runInstall(host: FirstRunHost, decision: Extract<SetupDecision, { kind: 'install' }>, storageDir: string, wheel: string,
  wheelHash: string): Promise<InstallResult> {
  const title = decision.reason === 'update' ? "specloop: updating the server's private environment"
    : 'specloop: installing the server into a private environment';
  host.output.info(`${title} (${envDir(storageDir)}) with ${describe(decision.base)}, Python ${decision.baseVersion}`);
  const install = host.install ?? installPrivateEnv;
  return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (progress, token) => install({
      storageDir,
      base: decision.base,
      wheel,
      wheelHash,
      reason: decision.reason,
      env: buildServerEnv(process.env, {}),   // pip gets no API keys
      token,
      reporter: {
        log: (line) => host.output.info(line),
        step: (message) => progress.report({ message }),
      },
    })));
}
