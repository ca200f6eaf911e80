/**
 * The palette commands. Each one is a small function over the server
 * manager and VS Code's window API; the logic they rely on lives in the pure
 * modules (actions, secrets, runs).
 *
 * The command ids differ from the server's (`specloop.generate`, ...): the
 * language client registers the server's commands itself, and a second
 * registration of the same id would fail.
 */

import * as vscode from 'vscode';
import { COMMAND_CANCEL, COMMAND_GENERATE_ALL, commandOf, noActionReason, pickSpecAction } from './actions';
import { newestRun } from './runs';
import { ApiKeyStore, COMMON_KEY_VARS, guessKeyVar, validateEnvName } from './secrets';
import type { PendingReview } from './review';
import type { SpecloopServer } from './server';
import { SECTION } from './settings';

export const COMMANDS = {
  implementAtCursor: 'specloop.implementAtCursor',
  implementFile: 'specloop.implementFile',
  cancelAll: 'specloop.cancelAll',
  showOutput: 'specloop.showOutput',
  openLastTrace: 'specloop.openLastTrace',
  restartServer: 'specloop.restartServer',
  setApiKey: 'specloop.setApiKey',
  removeApiKey: 'specloop.removeApiKey',
  reviewPending: 'specloop.reviewPending',
  applyProposed: 'specloop.applyProposed',
  discardProposed: 'specloop.discardProposed',
  installServer: 'specloop.installServer',
} as const;

/** What the commands need. */
export interface CommandContext {
  readonly server: SpecloopServer;
  readonly keys: ApiKeyStore;
  readonly output: vscode.LogOutputChannel;
  readonly review: PendingReview;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pythonEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'python') {
    void vscode.window.showInformationMessage('specloop: open a Python file first.');
    return undefined;
  }
  return editor;
}

/** "Implement spec at cursor": runs the server's generate action for the spec under the cursor. */
export async function implementAtCursor(ctx: CommandContext): Promise<void> {
  const editor = pythonEditor();
  if (!editor) {
    return;
  }
  try {
    const actions = await ctx.server.specActions(editor.document, editor.selection.active);
    let action = pickSpecAction(actions);
    if (action && !commandOf(action)) {
      action = await ctx.server.resolveAction(action);
    }
    const command = action && commandOf(action);
    if (!command) {
      void vscode.window.showInformationMessage(`specloop: ${noActionReason(actions)}`);
      return;
    }
    await ctx.server.executeCommand(command.command, command.arguments ?? []);
  } catch (error) {
    void vscode.window.showErrorMessage(`specloop: ${message(error)}`);
  }
}

/** "Implement all specs in file". */
export async function implementFile(ctx: CommandContext): Promise<void> {
  const editor = pythonEditor();
  if (!editor) {
    return;
  }
  try {
    await ctx.server.executeCommand(COMMAND_GENERATE_ALL, [{ uri: editor.document.uri.toString() }]);
  } catch (error) {
    void vscode.window.showErrorMessage(`specloop: ${message(error)}`);
  }
}

/** "Cancel all jobs". */
export async function cancelAll(ctx: CommandContext): Promise<void> {
  try {
    await ctx.server.executeCommand(COMMAND_CANCEL, []);
  } catch (error) {
    void vscode.window.showErrorMessage(`specloop: ${message(error)}`);
  }
}

/** "Open the last run's trace": the newest file in <folder>/.specloop/runs/. */
export async function openLastTrace(): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  const newest = await newestRun(folders);
  if (!newest) {
    void vscode.window.showInformationMessage('specloop: no run yet: traces appear in .specloop/runs/ after a job (with specloop.trace on).');
    return;
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(newest.path));
  await vscode.window.showTextDocument(document, { preview: false });
}

/**
 * "Set API key": asks the variable name (a guess from the model setting
 * first) and the key (password box), stores it, restarts the server so its
 * environment has it. The key is never shown, logged or put in settings.
 */
export async function setApiKey(ctx: CommandContext): Promise<void> {
  const model = vscode.workspace.getConfiguration(SECTION).get<string | null>('model');
  const guess = guessKeyVar(model);
  const stored = new Set(ctx.keys.storedNames());
  const names = [guess, ...COMMON_KEY_VARS.filter((n) => n !== guess)];
  const items: vscode.QuickPickItem[] = names.map((name) => ({
    label: name,
    description: stored.has(name) ? 'stored' : name === guess ? 'for the configured model' : undefined,
  }));
  items.push({ label: 'Other…', description: 'another environment variable' });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'specloop: Set API key (1/2)',
    placeHolder: 'Environment variable your provider reads (litellm)',
    ignoreFocusOut: true,
  });
  if (!picked) {
    return;
  }
  let name = picked.label;
  if (name === 'Other…') {
    const typed = await vscode.window.showInputBox({
      title: 'specloop: Set API key (1/2)',
      prompt: 'Environment variable name, e.g. COHERE_API_KEY',
      validateInput: (value) => validateEnvName(value) ?? null,
      ignoreFocusOut: true,
    });
    if (!typed) {
      return;
    }
    name = typed.trim();
  }
  const key = await vscode.window.showInputBox({
    title: `specloop: Set API key (2/2): ${name}`,
    prompt: `The value of ${name}. Kept in the OS keychain (VS Code's secret storage) and passed only to the specloop server's environment.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'The key is empty.' : null),
  });
  if (!key) {
    return;
  }
  await ctx.keys.set(name, key);
  ctx.output.info(`API key for ${name} stored; restarting the server so it sees it.`);
  await ctx.server.restart();
  void vscode.window.showInformationMessage(`specloop: ${name} stored in secret storage; the server was restarted with it.`);
}

/** "Remove API key". */
export async function removeApiKey(ctx: CommandContext): Promise<void> {
  const names = ctx.keys.storedNames();
  if (names.length === 0) {
    void vscode.window.showInformationMessage('specloop: no API key is stored.');
    return;
  }
  const name = await vscode.window.showQuickPick(names, { title: 'specloop: Remove API key' });
  if (!name) {
    return;
  }
  await ctx.keys.remove(name);
  ctx.output.info(`API key for ${name} removed; restarting the server.`);
  await ctx.server.restart();
}

/** Registers every palette command. */
export function registerCommands(ctx: CommandContext, trusted: () => boolean, explainUntrusted: () => void): vscode.Disposable[] {
  const guarded = <A extends unknown[]>(run: (...args: A) => unknown) => (...args: A) => (trusted() ? run(...args) : explainUntrusted());
  return [
    vscode.commands.registerCommand(COMMANDS.implementAtCursor, guarded(() => implementAtCursor(ctx))),
    vscode.commands.registerCommand(COMMANDS.implementFile, guarded(() => implementFile(ctx))),
    vscode.commands.registerCommand(COMMANDS.cancelAll, guarded(() => cancelAll(ctx))),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => ctx.output.show(true)),
    vscode.commands.registerCommand(COMMANDS.openLastTrace, () => openLastTrace()),
    vscode.commands.registerCommand(COMMANDS.restartServer, guarded(() => ctx.server.restart())),
    vscode.commands.registerCommand(COMMANDS.setApiKey, () => setApiKey(ctx)),
    vscode.commands.registerCommand(COMMANDS.removeApiKey, () => removeApiKey(ctx)),
    vscode.commands.registerCommand(COMMANDS.reviewPending, guarded(() => ctx.review.review())),
    vscode.commands.registerCommand(COMMANDS.applyProposed, guarded(async (arg?: unknown) => {
      const which = await ctx.review.resolve(arg);
      return which && ctx.review.apply(which);
    })),
    vscode.commands.registerCommand(COMMANDS.discardProposed, guarded(async (arg?: unknown) => {
      const which = await ctx.review.resolve(arg);
      return which && ctx.review.discard(which);
    })),
    vscode.commands.registerCommand(COMMANDS.installServer, guarded(() => ctx.server.installPrivately())),
  ];
}
