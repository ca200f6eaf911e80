/**
 * Reading the extension's settings from VS Code and answering the server's
 * `workspace/configuration` requests with them (see settings.ts for the
 * mapping). Kept apart from the language client so it is unit-tested with a
 * stubbed `vscode` module.
 *
 * A request for section `specloop` gets the snake_case settings of its
 * `scopeUri` (or of the first workspace folder); a sub-section
 * `specloop.<field>` gets that one field (null when unset); every other
 * section keeps VS Code's own answer.
 */

import * as vscode from 'vscode';
import { keyOfField, SECTION, ServerSettings, toServerSettings } from './settings';

/** The settings for a scope (a folder's URI, or the window when undefined). */
export function settingsFor(scope?: vscode.Uri): ServerSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return toServerSettings((key) => config.inspect(key));
}

/** The first workspace folder, which roots the server. */
export function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** The items of a `workspace/configuration` request. */
export interface ConfigurationRequestParams {
  readonly items: ReadonlyArray<{ readonly scopeUri?: string; readonly section?: string }>;
}

/** The `workspace/configuration` middleware of the language client. */
export async function answerConfiguration<P extends ConfigurationRequestParams, T>(
  params: P,
  token: T,
  next: (params: P, token: T) => unknown,
): Promise<unknown> {
  const defaults = await next(params, token);
  if (!Array.isArray(defaults)) {
    return defaults;   // an error answer: pass it on
  }
  const answers: unknown[] = [...defaults];
  params.items.forEach((item, index) => {
    const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : firstFolder()?.uri;
    if (item.section === SECTION) {
      answers[index] = settingsFor(scope);
    } else if (item.section?.startsWith(`${SECTION}.`)) {
      const field = item.section.slice(SECTION.length + 1);
      if (keyOfField(field) !== undefined) {
        answers[index] = settingsFor(scope)[field] ?? null;
      }
    }
  });
  return answers;
}
