/**
 * A stand-in for the `vscode` module, for unit tests of the modules that
 * call VS Code's API (configuration, commands, output). Only the members
 * those modules touch exist; each test sets the behaviour it needs on the
 * exported `stub` (answers of input boxes, settings, the active editor) and
 * reads back what the code did (messages shown, settings written).
 *
 * `install()` must run before the module under test is required: it makes
 * `require('vscode')` resolve to `stub`.
 */

import Module = require('module');
import * as path from 'path';

export interface InspectValues {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

class Uri {
  private constructor(readonly scheme: string, readonly fsPath: string, private readonly raw: string) {}
  static file(p: string): Uri {
    return new Uri('file', p, `file://${p}`);
  }
  static parse(value: string): Uri {
    const m = /^([a-z]+):\/\/(.*)$/.exec(value);
    return m ? new Uri(m[1], m[1] === 'file' ? decodeURIComponent(m[2]) : m[2], value) : new Uri('file', value, value);
  }
  toString(): string {
    return this.raw;
  }
}

class Position {
  constructor(readonly line: number, readonly character: number) {}
}

class Range {
  constructor(readonly start: Position, readonly end: Position) {}
}

/** What the code under test did, for assertions. */
export interface Recorded {
  info: string[];
  warnings: string[];
  errors: string[];
  settingsWritten: Array<{ key: string; value: unknown }>;
  configScopes: Array<string | undefined>;
  openedDocuments: string[];
  quickPickItems: unknown[][];
  inputBoxes: Array<{ password?: boolean; prompt?: string; title?: string }>;
}

/** The settings per scope: scope key ('' = no scope) -> key -> inspection values. */
export type SettingsTable = Record<string, Record<string, InspectValues>>;

export const stub = {
  settings: {} as SettingsTable,
  quickPickAnswers: [] as Array<string | undefined>,
  inputAnswers: [] as Array<string | undefined>,
  activeTextEditor: undefined as unknown,
  workspaceFolders: undefined as Array<{ uri: Uri; name: string; index: number }> | undefined,
  recorded: {} as Recorded,
  reset(): void {
    this.settings = {};
    this.quickPickAnswers = [];
    this.inputAnswers = [];
    this.activeTextEditor = undefined;
    this.workspaceFolders = undefined;
    this.recorded = {
      info: [], warnings: [], errors: [], settingsWritten: [], configScopes: [], openedDocuments: [],
      quickPickItems: [], inputBoxes: [],
    };
  },
};
stub.reset();

function configuration(section: string, scope?: Uri) {
  stub.recorded.configScopes.push(scope?.toString());
  const table = { ...(stub.settings[''] ?? {}), ...(scope ? stub.settings[scope.toString()] ?? {} : {}) };
  const full = (key: string) => `${section}.${key}`;
  return {
    inspect(key: string) {
      const values = table[full(key)];
      return values ? { key: full(key), ...values } : { key: full(key) };
    },
    get(key: string, fallback?: unknown) {
      const v = table[full(key)];
      const value = v?.workspaceFolderValue ?? v?.workspaceValue ?? v?.globalValue ?? v?.defaultValue;
      return value === undefined ? fallback : value;
    },
    update(key: string, value: unknown) {
      stub.recorded.settingsWritten.push({ key: full(key), value });
      return Promise.resolve();
    },
  };
}

const vscodeModule = {
  Uri,
  Position,
  Range,
  workspace: {
    getConfiguration: configuration,
    get workspaceFolders() {
      return stub.workspaceFolders;
    },
    async openTextDocument(uri: Uri) {
      stub.recorded.openedDocuments.push(uri.fsPath);
      return { uri };
    },
  },
  window: {
    get activeTextEditor() {
      return stub.activeTextEditor;
    },
    async showInformationMessage(message: string) {
      stub.recorded.info.push(message);
      return undefined;
    },
    async showWarningMessage(message: string) {
      stub.recorded.warnings.push(message);
      return undefined;
    },
    async showErrorMessage(message: string) {
      stub.recorded.errors.push(message);
      return undefined;
    },
    async showQuickPick(items: Array<string | { label: string }>) {
      stub.recorded.quickPickItems.push(items);
      const answer = stub.quickPickAnswers.shift();
      return items.find((i) => (typeof i === 'string' ? i : i.label) === answer);
    },
    async showInputBox(options: { password?: boolean; prompt?: string; title?: string; validateInput?: (v: string) => unknown }) {
      stub.recorded.inputBoxes.push({ password: options.password, prompt: options.prompt, title: options.title });
      const answer = stub.inputAnswers.shift();
      if (answer !== undefined && options.validateInput && options.validateInput(answer)) {
        return undefined;   // VS Code keeps the box open on an invalid value; the user then escapes
      }
      return answer;
    },
    async showTextDocument(document: unknown) {
      return document;
    },
  },
  commands: {
    registerCommand: () => ({ dispose() {} }),
    executeCommand: async () => undefined,
  },
  env: { clipboard: { writeText: async () => undefined } },
};

let installed = false;

/** Makes `require('vscode')` return the stub. */
export function install(): void {
  if (installed) {
    return;
  }
  installed = true;
  const fake = path.join(__dirname, '__vscode_stub__.js');
  const mod = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
    _cache: Record<string, unknown>;
  };
  const original = mod._resolveFilename;
  mod._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake : original.call(this, request, ...rest);
  };
  const cached = new Module(fake);
  cached.filename = fake;
  cached.loaded = true;
  cached.exports = vscodeModule;
  require.cache[fake] = cached;
}

export { Uri as StubUri, Position as StubPosition };
