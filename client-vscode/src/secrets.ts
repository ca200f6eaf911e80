/**
 * Provider API keys: where they are kept and how they reach the server.
 *
 * Decisions:
 * - A key lives in VS Code's SecretStorage (the OS keychain) under
 *   `specloop.apiKey.<ENV_NAME>`; it is never written to settings.json.
 *   SecretStorage cannot list its entries, so the variable *names* (which are
 *   not secret) are kept in the extension's global state.
 * - Keys reach the server only through the environment of its process, under
 *   the variable the user named (litellm reads e.g. `OPENAI_API_KEY`). The
 *   server's sandbox scrubs them before running generated code.
 * - A stored key overrides the same variable inherited from VS Code's own
 *   environment: the user set it here on purpose.
 * - Names that would change how processes start (PATH, PYTHONPATH,
 *   LD_PRELOAD, ...) or specloop's own settings (`SPECLOOP_*`) are refused.
 * - Everything the extension writes to its output channel passes through
 *   {@link redact}, so a key echoed by a provider's error message is masked.
 *
 * Only interfaces of SecretStorage and Memento are used, so the module is
 * tested with in-memory fakes.
 */

/** The part of `vscode.SecretStorage` used here. */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

/** The part of `vscode.Memento` used here. */
export interface NameStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** Variables most litellm providers read, offered first when asking for a name. */
export const COMMON_KEY_VARS: readonly string[] = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'MISTRAL_API_KEY',
  'GROQ_API_KEY',
  'DEEPSEEK_API_KEY',
  'OPENROUTER_API_KEY',
  'TOGETHERAI_API_KEY',
  'AZURE_API_KEY',
  'HUGGINGFACE_API_KEY',
];

const PROVIDER_VARS: Readonly<Record<string, string>> = {
  openai: 'OPENAI_API_KEY',
  text_completion_openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  gemini: 'GEMINI_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  groq: 'GROQ_API_KEY',
  deepseek: 'DEEPSEEK_API_KEY',
  openrouter: 'OPENROUTER_API_KEY',
  together_ai: 'TOGETHERAI_API_KEY',
  azure: 'AZURE_API_KEY',
  huggingface: 'HUGGINGFACE_API_KEY',
  cohere: 'COHERE_API_KEY',
  fireworks_ai: 'FIREWORKS_AI_API_KEY',
  xai: 'XAI_API_KEY',
};

const REFUSED_NAMES = new Set([
  'PATH', 'HOME', 'SHELL', 'USER', 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONSAFEPATH',
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH', 'NODE_OPTIONS',
  'VIRTUAL_ENV', 'SYSTEMROOT', 'COMSPEC', 'TMPDIR', 'TEMP', 'TMP',
]);

/** The global-state key holding the stored variable names. */
export const NAMES_KEY = 'specloop.apiKeyNames';

/** The SecretStorage key of one variable's value. */
export function secretKey(name: string): string {
  return `specloop.apiKey.${name}`;
}

/** A reason why `name` cannot hold an API key, or `undefined` when it can. */
export function validateEnvName(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed === '') {
    return 'Enter the environment variable your provider reads, e.g. OPENAI_API_KEY.';
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(trimmed)) {
    return 'A variable name has letters, digits and underscores, and does not start with a digit.';
  }
  const upper = trimmed.toUpperCase();
  if (REFUSED_NAMES.has(upper) || upper.startsWith('LD_') || upper.startsWith('DYLD_')) {
    return `${trimmed} controls how programs start; it cannot hold an API key.`;
  }
  if (upper.startsWith('SPECLOOP_')) {
    return 'SPECLOOP_* variables are specloop settings; set those in the settings instead.';
  }
  return undefined;
}

/** The variable the provider of a litellm model name reads, e.g. `anthropic/claude-x` -> `ANTHROPIC_API_KEY`. */
export function guessKeyVar(model: string | null | undefined): string {
  const name = (model ?? '').trim().toLowerCase();
  const slash = name.indexOf('/');
  const provider = slash > 0 ? name.slice(0, slash) : '';
  if (provider && PROVIDER_VARS[provider]) {
    return PROVIDER_VARS[provider];
  }
  if (name.startsWith('claude')) {
    return 'ANTHROPIC_API_KEY';
  }
  if (name.startsWith('gemini')) {
    return 'GEMINI_API_KEY';
  }
  return 'OPENAI_API_KEY';
}

/** Keys in SecretStorage, names in global state. */
export class ApiKeyStore {
  constructor(private readonly secrets: SecretStore, private readonly names: NameStore) {}

  /** The stored variable names, sorted. */
  storedNames(): string[] {
    const raw = this.names.get<unknown>(NAMES_KEY);
    return Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string').sort() : [];
  }

  /** Stores `value` for variable `name` (validated; an empty value is refused). */
  async set(name: string, value: string): Promise<void> {
    const problem = validateEnvName(name);
    if (problem) {
      throw new Error(problem);
    }
    const key = value.trim();
    if (key === '') {
      throw new Error('The key is empty.');
    }
    const clean = name.trim();
    await this.secrets.store(secretKey(clean), key);
    const names = new Set(this.storedNames());
    names.add(clean);
    await this.names.update(NAMES_KEY, [...names].sort());
  }

  /** Forgets the key of variable `name`. */
  async remove(name: string): Promise<void> {
    await this.secrets.delete(secretKey(name));
    await this.names.update(NAMES_KEY, this.storedNames().filter((n) => n !== name));
  }

  /** Every stored key as variable -> value; names whose secret vanished are skipped. */
  async all(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of this.storedNames()) {
      const value = await this.secrets.get(secretKey(name));
      if (value) {
        out[name] = value;
      }
    }
    return out;
  }
}

/** Variables the server process always gets. */
export const SERVER_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  // litellm otherwise tries to download its price map at import, retrying for seconds offline.
  LITELLM_LOCAL_MODEL_COST_MAP: 'True',
  PYTHONUNBUFFERED: '1',
  PYTHONIOENCODING: 'utf-8',
};

/**
 * The server process's environment: the editor's own, the defaults above
 * (unless the environment sets them already), then the stored keys.
 */
export function buildServerEnv(
  base: Readonly<Record<string, string | undefined>>,
  keys: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined) {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(SERVER_ENV_DEFAULTS)) {
    if (env[name] === undefined) {
      env[name] = value;
    }
  }
  for (const [name, value] of Object.entries(keys)) {
    if (validateEnvName(name) === undefined && value) {
      env[name] = value;
    }
  }
  return env;
}

/** Masks every occurrence of the given secrets (4 characters or longer) in `text`. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) {
      out = out.split(secret).join(mask(secret));
    }
  }
  return out;
}

function mask(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 3)}…(redacted)` : '(redacted)';
}
