/**
 * The language server's life: choose a Python, check specloop is installed
 * there (else install it into a private environment, with consent: see
 * setup.ts), start `python -m specloop serve` over stdio, answer its
 * configuration requests, show its jobs' progress as cancellable
 * notifications (progress.ts), restart it on demand.
 *
 * Decisions:
 * - One server per window, rooted at the first workspace folder (it serves
 *   every folder; per-folder settings reach it through `workspace/configuration`
 *   with a `scopeUri`).
 * - Settings go out as snake_case (see settings.ts): as initialization
 *   options, as the answer to `workspace/configuration` section `specloop`
 *   (a sub-section `specloop.<field>` gets that field's value), and, when they
 *   change, as `workspace/didChangeConfiguration` with
 *   `{settings: {specloop: {...}}}`. A change of `specloop.server.python`, of
 *   the Python extension's interpreter, or of a stored key restarts the
 *   process instead (its environment and interpreter are fixed at spawn).
 * - Starts, stops and restarts are serialized; a restart asked for while one
 *   runs happens once after it (also while the consent modal or an install
 *   is open).
 */

import * as vscode from 'vscode';
import {
  CodeActionRequest,
  CodeActionResolveRequest,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
  State,
  StaticFeature,
  WorkDoneProgressCancelNotification,
} from 'vscode-languageclient/node';
import { answerConfiguration, firstFolder, settingsFor } from './configuration';
import { DECLINED_KEY, serverPython, SetupFailure } from './firstRun';
import { choosePython, PythonCommand, serverCommandLine } from './interpreter';
import { ProgressHandle, ProgressNotifications, WorkDoneValue } from './progress';
import { activeInterpreter } from './python';
import { buildServerEnv } from './secrets';
import { SECTION } from './settings';
import { applyStatus, EMPTY_SESSION, ServerState, SessionStatus, STATUS_NOTIFICATION } from './status';
import { ACTION_KIND, WireAction } from './actions';

/**
 * Tells the server (`capabilities.experimental.specloop.reviewsPending`)
 * that this client announces results that were not applied itself, with a
 * diff (review.ts), so a server may leave out its own message about them.
 */
export const REVIEWS_PENDING: StaticFeature = {
  fillClientCapabilities(capabilities) {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, specloop: { reviewsPending: true } };
  },
  initialize() {},
  getState: () => ({ kind: 'static' }),
  clear() {},
};

/** A notification with a progress bar (VS Code's `withProgress`), closed by `close()`. */
export function openNotificationProgress(title: string, cancellable: boolean, onCancel: () => void): ProgressHandle {
  let close: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    close = resolve;
  });
  let target: vscode.Progress<{ message?: string; increment?: number }> | undefined;
  const early: Array<{ message?: string; increment?: number }> = [];
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, (progress, token) => {
    target = progress;
    early.splice(0).forEach((v) => progress.report(v));
    token.onCancellationRequested(onCancel);
    return done;
  });
  return {
    report: (value) => (target ? target.report(value) : early.push(value)),
    close: () => close(),
  };
}

/** What the manager needs from the rest of the extension. */
export interface ServerHost {
  readonly output: vscode.LogOutputChannel;
  /** False in an untrusted workspace: the server is then never started. */
  trusted(): boolean;
  /** The stored API keys (variable -> value). */
  keys(): Promise<Record<string, string>>;
  /** Called on every change of state or session figures. */
  onStatus(state: ServerState, session: SessionStatus, detail: string): void;
  /** Shows why the server cannot start (no Python, too old, specloop missing) to the user. */
  onSetupFailed(failure: SetupFailure): void;
  /** The installed extension's root folder (the wheel is under client-vscode/dist/). */
  readonly extensionRoot: string;
  /** The extension's global storage folder (the private environment goes there); undefined without file storage. */
  readonly storageDir?: string;
  /** The extension's global state (remembers a refused private environment). */
  readonly state: vscode.Memento;
}

/** Owns the LanguageClient. */
export class SpecloopServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<void> = Promise.resolve();
  private session: SessionStatus = EMPTY_SESSION;
  private state: ServerState = 'stopped';
  private detail = '';
  private lastJob = '';
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly progress: ProgressNotifications;

  constructor(private readonly host: ServerHost) {
    this.progress = new ProgressNotifications(
      openNotificationProgress,
      (token) => {
        void this.client?.sendNotification(WorkDoneProgressCancelNotification.type, { token }).catch(() => undefined);
      },
      (ended) => {
        const name = ended.title.replace(/^specloop:\s*/, '');
        this.lastJob = `${name}: ${ended.message || 'ended'}${ended.cancelRequested && !/cancel/i.test(ended.message) ? ' (cancel asked)' : ''}`;
        this.setState(this.state);
      },
    );
  }

  /** The running client, if any. */
  get languageClient(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /** Starts the server unless it runs. */
  start(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.client) {
        await this.doStart();
      }
    });
  }

  /** Stops and starts the server again. */
  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Stops the server. */
  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** Tells a running server that the settings changed. */
  async settingsChanged(): Promise<void> {
    const client = this.languageClient;
    if (client) {
      await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: settingsFor(firstFolder()?.uri) } });
    }
  }

  /** The commands the running server announced. */
  serverCommands(): readonly string[] {
    return this.languageClient?.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
  }

  /** Forgets a refused private environment and starts again, so the install is offered (and done) now. */
  async installPrivately(): Promise<void> {
    await this.host.state.update(DECLINED_KEY, undefined);
    await this.restart();
  }

  /** Sends `workspace/executeCommand` to the server and returns its result. */
  async executeCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.requireClient();
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** The server's specloop code actions at a position of a document, resolved when needed. */
  async specActions(document: vscode.TextDocument, position: vscode.Position): Promise<WireAction[]> {
    const client = this.requireClient();
    const c2p = client.code2ProtocolConverter;
    const range = c2p.asRange(new vscode.Range(position, position));
    const result = await client.sendRequest(CodeActionRequest.type, {
      textDocument: c2p.asTextDocumentIdentifier(document),
      range,
      context: { diagnostics: [], only: [ACTION_KIND], triggerKind: 1 },
    });
    return (result ?? []) as WireAction[];
  }

  /** Resolves a code action that came without its command. */
  async resolveAction(action: WireAction): Promise<WireAction> {
    const client = this.requireClient();
    return (await client.sendRequest(CodeActionResolveRequest.type, action as never)) as WireAction;
  }

  dispose(): void {
    void this.stop();
  }

  private requireClient(): LanguageClient {
    const client = this.languageClient;
    if (!client) {
      throw new Error(this.state === 'starting' ? 'The specloop server is still starting.' : 'The specloop server is not running.');
    }
    return client;
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private setState(state: ServerState, detail = this.detail): void {
    this.state = state;
    this.detail = detail;
    const last = this.lastJob && state === 'running' ? `Last job: ${this.lastJob}` : '';
    this.host.onStatus(state, this.session, [detail, last].filter(Boolean).join('\n'));
  }

  private async choose(): Promise<PythonCommand> {
    const folder = firstFolder();
    const setting = vscode.workspace.getConfiguration(SECTION, folder?.uri).get<string>('server.python');
    const fromExtension = setting?.trim() ? undefined : await activeInterpreter(folder?.uri);
    return choosePython({
      setting,
      extensionCommand: fromExtension,
      workspaceFolder: folder?.uri.fsPath,
      env: process.env,
    });
  }

  private async doStart(): Promise<void> {
    this.session = EMPTY_SESSION;
    if (!this.host.trusted()) {
      this.setState('untrusted', '');
      return;
    }
    this.setState('starting', '');
    const folder = firstFolder();
    const cwd = folder?.uri.scheme === 'file' ? folder.uri.fsPath : undefined;
    const env = buildServerEnv(process.env, await this.host.keys());
    const chosen = await this.choose();
    this.host.output.info(`Python: ${[chosen.command, ...chosen.args].join(' ')} (${chosen.source})`);
    const found = await serverPython({
      output: this.host.output,
      extensionRoot: this.host.extensionRoot,
      storageDir: this.host.storageDir,
      state: this.host.state,
      installing: (detail) => this.setState('starting', detail),
    }, chosen, env, cwd);
    if ('failure' in found) {
      this.host.output.error(found.failure.message);
      this.setState('failed', found.failure.message);
      this.host.onSetupFailed(found.failure);
      return;
    }
    const { python, location } = found;
    const line = serverCommandLine(python);
    this.host.output.info(`specloop found in ${location}; starting: ${[line.command, ...line.args].join(' ')}`);
    const serverOptions: ServerOptions = { command: line.command, args: line.args, options: { env, cwd } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      outputChannel: this.host.output,
      initializationOptions: () => settingsFor(folder?.uri),
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          if (this.progress.handle(token, params as WorkDoneValue)) {
            next(token, params);
          }
        },
        workspace: {
          configuration: (params, token, next) => answerConfiguration(params, token, next) as Promise<unknown[] | ResponseError<void>>,
        },
      },
    };
    const client = new LanguageClient('specloop', 'specloop', serverOptions, clientOptions);
    client.registerFeature(REVIEWS_PENDING);
    this.client = client;
    this.subscriptions.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) {
          return;
        }
        if (e.newState === State.Running) {
          this.setState('running', '');
        } else if (e.newState === State.Stopped) {
          this.progress.clear();
          this.session = { ...this.session, running: 0, queued: 0, pending: [] };
          this.setState('stopped');
        } else {
          this.setState('starting');
        }
      }),
      client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
        this.session = applyStatus(this.session, params);
        if (this.client === client) {
          this.setState(this.state);
        }
      }),
    );
    try {
      await client.start();
      this.setState('running', '');
    } catch (error) {
      const message = `specloop: the server did not start: ${error instanceof Error ? error.message : String(error)}`;
      this.host.output.error(message);
      this.setState('failed', message);
      void vscode.window.showErrorMessage(message, 'Show output').then((choice) => {
        if (choice) {
          this.host.output.show();
        }
      });
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.subscriptions.splice(0).forEach((d) => d.dispose());
    if (client) {
      try {
        if (client.needsStop()) {
          await client.stop(5000);
        }
      } catch (error) {
        this.host.output.warn(`stopping the server: ${error instanceof Error ? error.message : String(error)}`);
      }
      await client.dispose().catch(() => undefined);
    }
    this.progress.clear();
    this.session = { ...this.session, running: 0, queued: 0, pending: [] };
    this.setState('stopped', '');
  }
}
