/**
 * The extension's settings and how they reach the server.
 *
 * The server has one settings model (server/specloop/settings.py) with
 * snake_case fields. VS Code settings are camelCase under `specloop.`; this
 * module owns the table between the two and nothing else, so it imports no
 * `vscode` and is unit-tested on its own.
 *
 * Decisions:
 * - Only values the user set explicitly (user, workspace or folder settings)
 *   are sent. The defaults shown in the Settings UI mirror the server's, but
 *   sending them would override `[tool.specloop]` in pyproject.toml and the
 *   `SPECLOOP_*` environment, which rank below the editor's settings on the
 *   server. Unset means "let the project decide".
 * - An empty string counts as unset (a cleared text box), and so does `null`.
 * - Keys the server does not know are never sent: the server rejects unknown
 *   keys, so a stray setting would break every job.
 * - `specloop.server.python` is the extension's own (which Python runs the
 *   server) and is not sent; the server's `python` field (which Python runs
 *   the tests) is `specloop.testPython`, because `specloop.sandbox` is taken.
 */

/** The configuration section of the extension, and the one the server asks for. */
export const SECTION = 'specloop';

/** A contributed setting (without the `specloop.` prefix) and the server field it feeds. */
export interface SettingMapping {
  readonly key: string;
  readonly field: string;
}

/** Every setting the server understands, in the order of its settings model. */
export const SERVER_SETTINGS: readonly SettingMapping[] = [
  { key: 'model', field: 'model' },
  { key: 'apiBase', field: 'api_base' },
  { key: 'temperature', field: 'temperature' },
  { key: 'requestTimeout', field: 'request_timeout' },
  { key: 'maxRetries', field: 'max_retries' },
  { key: 'tokenBudget', field: 'token_budget' },
  { key: 'costBudgetUsd', field: 'cost_budget_usd' },
  { key: 'cache', field: 'cache' },
  { key: 'recordDir', field: 'record_dir' },
  { key: 'replayDir', field: 'replay_dir' },
  { key: 'maxIterations', field: 'max_iterations' },
  { key: 'candidates', field: 'candidates' },
  { key: 'sampleTemperature', field: 'sample_temperature' },
  { key: 'modelTests', field: 'model_tests' },
  { key: 'critic', field: 'critic' },
  { key: 'reviewRounds', field: 'review_rounds' },
  { key: 'contextTokens', field: 'context_tokens' },
  { key: 'keepTests', field: 'keep_tests' },
  { key: 'testsPath', field: 'tests_path' },
  { key: 'sandbox', field: 'sandbox' },
  { key: 'testPython', field: 'python' },
  { key: 'testTimeout', field: 'test_timeout' },
  { key: 'memoryMb', field: 'memory_mb' },
  { key: 'cpuSeconds', field: 'cpu_seconds' },
  { key: 'trace', field: 'trace' },
  { key: 'parallelJobs', field: 'parallel_jobs' },
  { key: 'confirmEdits', field: 'confirm_edits' },
];

/** The extension's own settings, which stay in the client. */
export const CLIENT_SETTINGS = ['server.python'] as const;

/** Settings whose change needs a new server process rather than a configuration update. */
export const RESTART_SETTINGS = ['server.python'] as const;

/** The shape of `WorkspaceConfiguration.inspect()`, reduced to what is read here. */
export interface Inspection {
  readonly defaultValue?: unknown;
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
  readonly globalLanguageValue?: unknown;
  readonly workspaceLanguageValue?: unknown;
  readonly workspaceFolderLanguageValue?: unknown;
}

/** Reads the inspection of one key (without the section prefix). */
export type Inspector = (key: string) => Inspection | undefined;

/** The server's settings object: snake_case field to JSON value. */
export type ServerSettings = Record<string, unknown>;

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/**
 * The value the user chose for a key, most specific scope first, or
 * `undefined` when only the default applies. Language-specific values win
 * over plain ones of the same scope, as in VS Code.
 */
export function explicitValue(inspection: Inspection | undefined): unknown {
  if (!inspection) {
    return undefined;
  }
  const ordered = [
    inspection.workspaceFolderLanguageValue,
    inspection.workspaceFolderValue,
    inspection.workspaceLanguageValue,
    inspection.workspaceValue,
    inspection.globalLanguageValue,
    inspection.globalValue,
  ];
  for (const value of ordered) {
    if (isSet(value)) {
      return typeof value === 'string' ? value.trim() : value;
    }
  }
  return undefined;
}

/** The snake_case settings to send, holding only the keys the user set. */
export function toServerSettings(inspect: Inspector): ServerSettings {
  const out: ServerSettings = {};
  for (const { key, field } of SERVER_SETTINGS) {
    const value = explicitValue(inspect(key));
    if (value !== undefined) {
      out[field] = value;
    }
  }
  return out;
}

/** The contributed key (without prefix) of a server field, e.g. `max_iterations` -> `maxIterations`. */
export function keyOfField(field: string): string | undefined {
  return SERVER_SETTINGS.find((m) => m.field === field)?.key;
}

/** True when a configuration change of these keys needs a server restart. */
export function needsRestart(affects: (fullKey: string) => boolean): boolean {
  return RESTART_SETTINGS.some((key) => affects(`${SECTION}.${key}`));
}

/** True when a configuration change touches a setting the server reads. */
export function touchesServerSettings(affects: (fullKey: string) => boolean): boolean {
  return SERVER_SETTINGS.some(({ key }) => affects(`${SECTION}.${key}`));
}
