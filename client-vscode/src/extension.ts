/**
 * Entry point of the specloop VS Code extension.
 *
 * On activation (a Python file opened) it creates the output channel, the
 * status bar item and the review of results the server did not apply
 * (review.ts), registers the palette commands, and starts the server unless
 * the workspace is untrusted (on first use that may install the server into
 * a private environment, after asking: see setup.ts). It restarts the server when
 * `specloop.server.python` or the Python extension's interpreter changes,
 * and forwards other setting changes to the running server.
 *
 * Untrusted workspaces: the manifest declares them unsupported, so VS Code
 * keeps the extension off in Restricted Mode and shows the manifest's reason.
 * Should it be activated anyway, no server starts, the status item shows a
 * shield, and every job command explains why.
 */

import * as vscode from 'vscode';
import { COMMANDS, registerCommands } from './commands';
import { createOutputChannel } from './output';
import { onInterpreterChange } from './python';
import { PendingReview } from './review';
import { ApiKeyStore } from './secrets';
import { SpecloopServer } from './server';
import { needsRestart, SECTION, touchesServerSettings } from './settings';
import { EMPTY_SESSION, formatStatus } from './status';

const UNTRUSTED_REASON = 'specloop is off in this workspace because it is not trusted: specloop runs generated code and ' +
  'your tests on this machine and sends your code to a language model. Trust the workspace to use it.';

const RESTART_DEBOUNCE_MS = 800;
const INSTALL_PRIVATELY = 'Install privately';
const COPY_COMMAND = 'Copy install command';
const OPEN_SETTING = 'Open setting';
const SHOW_OUTPUT = 'Show output';

let server: SpecloopServer | undefined;
let cachedKeys: string[] = [];

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const keys = new ApiKeyStore(context.secrets, context.globalState);
  const output = createOutputChannel(() => cachedKeys);
  const refreshKeys = async () => {
    const all = await keys.all();
    cachedKeys = Object.values(all);
    return all;
  };
  await refreshKeys();

  const item = vscode.window.createStatusBarItem('specloop.status', vscode.StatusBarAlignment.Left, 0);
  item.name = 'specloop';
  item.command = COMMANDS.showOutput;
  item.show();

  const explainUntrusted = () => {
    void vscode.window.showWarningMessage(UNTRUSTED_REASON, 'Manage Workspace Trust').then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('workbench.trust.manage');
      }
    });
  };

  let review: PendingReview | undefined;
  let last: Parameters<typeof render> | undefined;
  function render(state: Parameters<typeof formatStatus>[0], session: Parameters<typeof formatStatus>[1], detail: string): void {
    const view = formatStatus(state, { ...session, pending: review?.visible(session.pending) ?? session.pending }, detail);
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.command = view.click === 'review' ? COMMANDS.reviewPending : COMMANDS.showOutput;
    item.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
  server = new SpecloopServer({
    output,
    trusted: () => vscode.workspace.isTrusted,
    keys: refreshKeys,
    extensionRoot: context.extensionUri.fsPath,
    storageDir: context.globalStorageUri.scheme === 'file' ? context.globalStorageUri.fsPath : undefined,
    state: context.globalState,
    onStatus: (state, session, detail) => {
      review?.update(session.pending);
      last = [state, session, detail];
      render(state, session, detail);
    },
    onSetupFailed: (failure) => {
      const buttons = [
        ...(failure.canInstallPrivately ? [INSTALL_PRIVATELY] : []),
        ...(failure.installCommand ? [COPY_COMMAND] : []),
        OPEN_SETTING,
        SHOW_OUTPUT,
      ];
      void vscode.window.showErrorMessage(failure.message, ...buttons).then((choice) => {
        if (choice === OPEN_SETTING) {
          void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.python`);
        } else if (choice === COPY_COMMAND && failure.installCommand) {
          void vscode.env.clipboard.writeText(failure.installCommand);
        } else if (choice === INSTALL_PRIVATELY) {
          void server?.installPrivately();
        } else if (choice === SHOW_OUTPUT) {
          output.show(true);
        }
      });
    },
  });
  const current = server;
  review = new PendingReview(current, output);
  // a Discard here: the status bar stops counting the result at once, whatever the server says next
  context.subscriptions.push(review.onDidChangeVisible(() => last && render(...last)));
  // Typing a path in the Settings editor changes the setting many times: restart once it settles.
  let restartTimer: NodeJS.Timeout | undefined;
  const restartSoon = (reason: string) => {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      output.info(reason);
      void current.restart();
    }, RESTART_DEBOUNCE_MS);
  };
  context.subscriptions.push({ dispose: () => clearTimeout(restartTimer) });

  context.subscriptions.push(
    output,
    item,
    current,
    review,
    ...registerCommands({ server: current, keys, output, review }, () => vscode.workspace.isTrusted, explainUntrusted),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const affects = (key: string) => event.affectsConfiguration(key);
      if (needsRestart(affects)) {
        restartSoon('specloop.server.python changed: restarting the server.');
      } else if (touchesServerSettings(affects)) {
        void current.settingsChanged();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void current.start()),
  );

  void onInterpreterChange(() => {
    const setting = vscode.workspace.getConfiguration(SECTION).get<string>('server.python');
    if (!setting?.trim()) {
      restartSoon("The Python extension's interpreter changed: restarting the server.");
    }
  }).then((disposable) => disposable && context.subscriptions.push(disposable));

  if (!vscode.workspace.isTrusted) {
    const view = formatStatus('untrusted', EMPTY_SESSION);
    item.text = view.text;
    item.tooltip = `${UNTRUSTED_REASON}\n${view.tooltip}`;
    output.warn(UNTRUSTED_REASON);
    return;
  }
  void current.start();
}

export async function deactivate(): Promise<void> {
  const current = server;
  server = undefined;
  await current?.stop();
}

