import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import { test } from 'node:test';
import {
  ApiKeyStore, buildServerEnv, guessKeyVar, NAMES_KEY, NameStore, redact, secretKey, SecretStore, validateEnvName,
} from '../src/secrets';

class MemorySecrets implements SecretStore {
  readonly data = new Map<string, string>();
  async get(key: string) { return this.data.get(key); }
  async store(key: string, value: string) { this.data.set(key, value); }
  async delete(key: string) { this.data.delete(key); }
}

class MemoryState implements NameStore {
  readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined { return this.data.get(key) as T | undefined; }
  async update(key: string, value: unknown) { this.data.set(key, value); }
}

test('keys go to secret storage, only their names to global state', async () => {
  const secrets = new MemorySecrets();
  const state = new MemoryState();
  const store = new ApiKeyStore(secrets, state);
  await store.set('OPENAI_API_KEY', '  sk-test-123456789  ');
  await store.set('ANTHROPIC_API_KEY', 'ak-987654321');
  assert.equal(secrets.data.get(secretKey('OPENAI_API_KEY')), 'sk-test-123456789');
  assert.deepEqual(state.data.get(NAMES_KEY), ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY']);
  assert.ok(!JSON.stringify([...state.data.values()]).includes('sk-test'), 'no key in global state');
  assert.deepEqual(await store.all(), { ANTHROPIC_API_KEY: 'ak-987654321', OPENAI_API_KEY: 'sk-test-123456789' });
  await store.remove('OPENAI_API_KEY');
  assert.deepEqual(await store.all(), { ANTHROPIC_API_KEY: 'ak-987654321' });
  assert.equal(secrets.data.has(secretKey('OPENAI_API_KEY')), false);
});

test('bad names and empty keys are refused', async () => {
  const store = new ApiKeyStore(new MemorySecrets(), new MemoryState());
  await assert.rejects(store.set('PATH', 'x-123456'), /controls how programs start/);
  await assert.rejects(store.set('LD_AUDIT', 'x-123456'), /controls how programs start/);
  await assert.rejects(store.set('SPECLOOP_MODEL', 'x'), /settings/);
  await assert.rejects(store.set('1KEY', 'x'), /letters, digits/);
  await assert.rejects(store.set('OPENAI_API_KEY', '   '), /empty/);
  assert.equal(validateEnvName('MY_GATEWAY_TOKEN'), undefined);
  assert.deepEqual(store.storedNames(), []);
});

test('a name whose secret vanished is skipped', async () => {
  const secrets = new MemorySecrets();
  const store = new ApiKeyStore(secrets, new MemoryState());
  await store.set('GROQ_API_KEY', 'gsk-1234');
  secrets.data.clear();
  assert.deepEqual(await store.all(), {});
});

test('the server environment carries the keys, the editor environment and litellm offline price map', () => {
  const env = buildServerEnv({ PATH: '/bin', OPENAI_API_KEY: 'old', LITELLM_LOCAL_MODEL_COST_MAP: 'False', EMPTY: undefined },
    { OPENAI_API_KEY: 'sk-new', PATH: 'evil' });
  assert.equal(env.OPENAI_API_KEY, 'sk-new');
  assert.equal(env.PATH, '/bin', 'a stored PATH never overrides');
  assert.equal(env.LITELLM_LOCAL_MODEL_COST_MAP, 'False', 'the user environment keeps its choice');
  assert.equal(buildServerEnv({}, {}).LITELLM_LOCAL_MODEL_COST_MAP, 'True');
  assert.equal('EMPTY' in env, false);
});

test('a child process started with that environment sees the key', () => {
  const env = buildServerEnv({ PATH: process.env.PATH }, { MY_PROVIDER_KEY: 'k-42-secret' });
  const seen = execFileSync('python3', ['-c', 'import os; print(os.environ["MY_PROVIDER_KEY"], os.environ["PYTHONUNBUFFERED"])'],
    { env, encoding: 'utf8' });
  assert.equal(seen.trim(), 'k-42-secret 1');
});

test('the model setting suggests the provider variable', () => {
  assert.equal(guessKeyVar('anthropic/claude-3-5-haiku'), 'ANTHROPIC_API_KEY');
  assert.equal(guessKeyVar('claude-3-opus'), 'ANTHROPIC_API_KEY');
  assert.equal(guessKeyVar('openrouter/meta/llama'), 'OPENROUTER_API_KEY');
  assert.equal(guessKeyVar('gemini/gemini-2.0-flash'), 'GEMINI_API_KEY');
  assert.equal(guessKeyVar('gpt-4o-mini'), 'OPENAI_API_KEY');
  assert.equal(guessKeyVar(null), 'OPENAI_API_KEY');
});

test('redaction masks every occurrence and keeps the rest', () => {
  const text = 'auth failed for key sk-abcdefghijklmnop (sk-abcdefghijklmnop); short abc';
  const out = redact(text, ['sk-abcdefghijklmnop', 'abc']);
  assert.ok(!out.includes('sk-abcdefghijklmnop'));
  assert.ok(out.includes('auth failed for key sk-…(redacted)'));
  assert.ok(out.endsWith('short abc'), 'secrets under 4 characters are not masked (they would mask ordinary words)');
});
