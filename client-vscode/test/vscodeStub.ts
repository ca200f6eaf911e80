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
  private constructor(readonly scheme: string, readonly fsPath: string, private readonly raw: string,
    readonly path: string = fsPath, readonly query: string = '') {}
  static file(p: string): Uri {
    return new Uri('file', p, `file://${p}`);
  }
  static parse(value: string): Uri {
    const m = /^([a-z][a-z0-9+.-]*):(\/\/[^/]*)?([^?#]*)(?:\?([^#]*))?/.exec(value);
    if (!m) {
      return new Uri('file', value, value);
    }
    const p = decodeURIComponent(m[3]);
    return new Uri(m[1], m[1] === 'file' ? p : m[3], value, p, m[4] ?? '');
  }
  static from(parts: { scheme: string; path?: string; query?: string }): Uri {
    const p = parts.path ?? '';
    return new Uri(parts.scheme, p, `${parts.scheme}:${p}${parts.query ? `?${parts.query}` : ''}`, p, parts.query ?? '');
  }
  toString(): string {
    return this.raw;
  }
}

class EventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  readonly event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => { this.listeners = this.listeners.filter((l) => l !== listener); } };
  };
  fire(e: T): void {
    this.listeners.forEach((l) => l(e));
  }
  dispose(): void {
    this.listeners = [];
  }
}

class TabInputText {
  constructor(readonly uri: { toString(): string }) {}
}

class TabInputTextDiff {
  constructor(readonly original: { toString(): string }, readonly modified: { toString(): string }) {}
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
  /** Every message shown, with its buttons and options (modal, detail). */
  messages: Array<{ kind: 'info' | 'warning' | 'error'; message: string; items: string[]; modal?: boolean; detail?: string }>;
  commands: Array<{ command: string; args: unknown[] }>;
  progress: Array<{ title?: string; location: unknown; cancellable?: boolean; reports: unknown[] }>;
  closedTabs: unknown[];
}

/** The settings per scope: scope key ('' = no scope) -> key -> inspection values. */
export type SettingsTable = Record<string, Record<string, InspectValues>>;

export const stub = {
  settings: {} as SettingsTable,
  quickPickAnswers: [] as Array<string | undefined>,
  inputAnswers: [] as Array<string | undefined>,
  activeTextEditor: undefined as unknown,
  workspaceFolders: undefined as Array<{ uri: Uri; name: string; index: number }> | undefined,
  /** Answers of show*Message (the button chosen, undefined = dismissed), in order. */
  messageAnswers: [] as Array<string | undefined>,
  /** Tabs of the (single) tab group. */
  tabs: [] as Array<{ input: unknown }>,
  activeTab: undefined as { input: unknown } | undefined,
  textDocuments: [] as Array<{ uri: Uri }>,
  contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): unknown; onDidChange?: unknown }>(),
  documentChangeListeners: [] as Array<(e: { document: { uri: Uri } }) => void>,
  recorded: {} as Recorded,
  reset(): void {
    this.settings = {};
    this.quickPickAnswers = [];
    this.inputAnswers = [];
    this.messageAnswers = [];
    this.activeTextEditor = undefined;
    this.workspaceFolders = undefined;
    this.tabs = [];
    this.activeTab = undefined;
    this.textDocuments = [];
    this.contentProviders = new Map();
    this.documentChangeListeners = [];
    this.recorded = {
      info: [], warnings: [], errors: [], settingsWritten: [], configScopes: [], openedDocuments: [],
      quickPickItems: [], inputBoxes: [], messages: [], commands: [], progress: [], closedTabs: [],
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

function message(kind: 'info' | 'warning' | 'error', list: string[]) {
  return async (text: string, ...rest: unknown[]) => {
    list.push(text);
    const options = typeof rest[0] === 'object' && rest[0] !== null ? rest.shift() as { modal?: boolean; detail?: string } : {};
    const items = rest as string[];
    stub.recorded.messages.push({ kind, message: text, items, modal: options.modal, detail: options.detail });
    const answer = stub.messageAnswers.shift();
    return items.includes(answer as string) ? answer : undefined;
  };
}

const vscodeModule = {
  Uri,
  Position,
  Range,
  EventEmitter,
  TabInputText,
  TabInputTextDiff,
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  workspace: {
    getConfiguration: configuration,
    get textDocuments() {
      return stub.textDocuments;
    },
    registerTextDocumentContentProvider(scheme: string, provider: { provideTextDocumentContent(uri: Uri): unknown }) {
      stub.contentProviders.set(scheme, provider);
      return { dispose: () => stub.contentProviders.delete(scheme) };
    },
    onDidChangeTextDocument(listener: (e: { document: { uri: Uri } }) => void) {
      stub.documentChangeListeners.push(listener);
      return { dispose() {} };
    },
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
    get showInformationMessage() {
      return message('info', stub.recorded.info);
    },
    get showWarningMessage() {
      return message('warning', stub.recorded.warnings);
    },
    get showErrorMessage() {
      return message('error', stub.recorded.errors);
    },
    async withProgress(options: { title?: string; location: unknown; cancellable?: boolean },
      task: (progress: { report(v: unknown): void }, token: unknown) => Promise<unknown>) {
      const entry = { title: options.title, location: options.location, cancellable: options.cancellable, reports: [] as unknown[] };
      stub.recorded.progress.push(entry);
      const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
      return task({ report: (v) => entry.reports.push(v) }, token);
    },
    tabGroups: {
      get all() {
        return [{ tabs: stub.tabs }];
      },
      get activeTabGroup() {
        return { activeTab: stub.activeTab, tabs: stub.tabs };
      },
      async close(tabs: unknown[]) {
        stub.recorded.closedTabs.push(...tabs);
        stub.tabs = stub.tabs.filter((t) => !tabs.includes(t));
        return true;
      },
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
    executeCommand: async (command: string, ...args: unknown[]) => {
      stub.recorded.commands.push({ command, args });
      return undefined;
    },
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

export { Uri as StubUri, Position as StubPosition, TabInputTextDiff as StubTabInputTextDiff };
