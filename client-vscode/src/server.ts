/**
 * The language server's life: choose a Python, check specloop is installed
 * there, start `python -m specloop serve` over stdio, answer its
 * configuration requests, restart it on demand.
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
 *   runs happens once after it.
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
} from 'vscode-languageclient/node';
import { answerConfiguration, firstFolder, settingsFor } from './configuration';
import { choosePython, interpretProbe, ProbeVerdict, PythonCommand, runProbe, serverCommandLine } from './interpreter';
import { activeInterpreter } from './python';
import { buildServerEnv } from './secrets';
import { SECTION } from './settings';
import { applyStatus, EMPTY_SESSION, ServerState, SessionStatus, STATUS_NOTIFICATION } from './status';
import { ACTION_KIND, WireAction } from './actions';

/** What the manager needs from the rest of the extension. */
export interface ServerHost {
  readonly output: vscode.LogOutputChannel;
  /** False in an untrusted workspace: the server is then never started. */
  trusted(): boolean;
  /** The stored API keys (variable -> value). */
  keys(): Promise<Record<string, string>>;
  /** Called on every change of state or session figures. */
  onStatus(state: ServerState, session: SessionStatus, detail: string): void;
  /** Shows a probe failure to the user. */
  onProbeFailed(verdict: Extract<ProbeVerdict, { ok: false }>): void;
}

/** Owns the LanguageClient. */
export class SpecloopServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<void> = Promise.resolve();
  private session: SessionStatus = EMPTY_SESSION;
  private state: ServerState = 'stopped';
  private detail = '';
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly host: ServerHost) {}

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
    this.host.onStatus(state, this.session, detail);
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
    const python = await this.choose();
    const env = buildServerEnv(process.env, await this.host.keys());
    const line = serverCommandLine(python);
    this.host.output.info(`Python: ${[python.command, ...python.args].join(' ')} (${python.source})`);
    const verdict = interpretProbe(python, await runProbe(python, env, cwd));
    if (!verdict.ok) {
      this.host.output.error(verdict.message);
      this.setState('failed', verdict.message);
      this.host.onProbeFailed(verdict);
      return;
    }
    this.host.output.info(`specloop found in ${verdict.location}; starting: ${[line.command, ...line.args].join(' ')}`);
    const serverOptions: ServerOptions = { command: line.command, args: line.args, options: { env, cwd } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      outputChannel: this.host.output,
      initializationOptions: () => settingsFor(folder?.uri),
      middleware: {
        workspace: {
          configuration: (params, token, next) => answerConfiguration(params, token, next) as Promise<unknown[] | ResponseError<void>>,
        },
      },
    };
    const client = new LanguageClient('specloop', 'specloop', serverOptions, clientOptions);
    this.client = client;
    this.subscriptions.push(
      client.onDidChangeState((e) => {
        if (this.client !== client) {
          return;
        }
        if (e.newState === State.Running) {
          this.setState('running', '');
        } else if (e.newState === State.Stopped) {
          this.session = { ...this.session, running: 0 };
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
    this.session = { ...this.session, running: 0 };
    this.setState('stopped', '');
  }
}
