/**
 * Entry point of the specloop VS Code extension.
 *
 * On activation (a Python file opened) it creates the output channel and the
 * status bar item, registers the palette commands, and starts the server
 * unless the workspace is untrusted. It restarts the server when
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
import { ApiKeyStore } from './secrets';
import { SpecloopServer } from './server';
import { needsRestart, SECTION, touchesServerSettings } from './settings';
import { formatStatus } from './status';

const UNTRUSTED_REASON = 'specloop is off in this workspace because it is not trusted: specloop runs generated code and ' +
  'your tests on this machine and sends your code to a language model. Trust the workspace to use it.';

const RESTART_DEBOUNCE_MS = 800;

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

  server = new SpecloopServer({
    output,
    trusted: () => vscode.workspace.isTrusted,
    keys: refreshKeys,
    onStatus: (state, session, detail) => {
      const view = formatStatus(state, session, detail);
      item.text = view.text;
      item.tooltip = view.tooltip;
      item.backgroundColor = state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    },
    onProbeFailed: (verdict) => {
      const buttons = verdict.installCommand ? ['Open setting', 'Copy install command'] : ['Open setting'];
      void vscode.window.showErrorMessage(verdict.message, ...buttons).then((choice) => {
        if (choice === 'Open setting') {
          void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.python`);
        } else if (choice === 'Copy install command' && verdict.installCommand) {
          void vscode.env.clipboard.writeText(verdict.installCommand);
        }
      });
    },
  });
  const current = server;
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
    ...registerCommands({ server: current, keys, output }, () => vscode.workspace.isTrusted, explainUntrusted),
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
    const view = formatStatus('untrusted', { running: 0, promptTokens: 0, completionTokens: 0, costUsd: null, reported: false });
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

