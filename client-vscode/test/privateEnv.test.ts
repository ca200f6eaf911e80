/**
 * The private environment (privateEnv.ts) with a real Python, a real venv and
 * a small wheel named specloop (no dependencies, so pip needs no index):
 * created, found by the probe, updated in place, cancelled and failed without
 * leftovers; and the bundle's wheel found in an extension folder.
 */
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import { parseProbe, runProbe } from '../src/interpreter';
import {
  ENV_FOLDER, envPython, fileHash, findBundle, installPrivateEnv, privatePython, readMarker,
} from '../src/privateEnv';
import { buildServerEnv } from '../src/secrets';

const BUILD_WHEEL = `
import base64, hashlib, sys, zipfile
out, version = sys.argv[1], sys.argv[2]
info = "specloop-%s.dist-info" % version
files = {
    "specloop/__init__.py": "__version__ = %r\\n" % version,
    "specloop/__main__.py": "print('fake specloop server')\\n",
    info + "/METADATA": "Metadata-Version: 2.1\\nName: specloop\\nVersion: %s\\n" % version,
    info + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(out, "w") as z:
    for name, text in files.items():
        data = text.encode()
        z.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(info + "/RECORD,,")
    z.writestr(info + "/RECORD", "\\n".join(record) + "\\n")
`;

function wheel(dir: string, version: string): string {
  const file = path.join(dir, `specloop-${version}-py3-none-any.whl`);
  execFileSync('python3', ['-c', BUILD_WHEEL, file, version]);
  return file;
}

const env = { ...buildServerEnv({ PATH: process.env.PATH, HOME: process.env.HOME }, {}), PIP_NO_INDEX: '1' };
const python3 = { command: 'python3', args: [], source: 'default' as const };

function reporter() {
  const lines: string[] = [];
  const steps: string[] = [];
  return { lines, steps, reporter: { log: (l: string) => lines.push(l), step: (s: string) => steps.push(s) } };
}

test('first install: a venv in the storage folder with the wheel, a marker, and nothing else left', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-env-'));
  const storage = path.join(root, 'storage');
  const w1 = wheel(root, '0.0.1');
  const r = reporter();
  const result = await installPrivateEnv({ storageDir: storage, base: python3, wheel: w1, wheelHash: await fileHash(w1), reason: 'first', env, reporter: r.reporter });
  assert.ok(result.ok, JSON.stringify(result));
  const dir = path.join(storage, ENV_FOLDER);
  assert.deepEqual(result, { ok: true, python: privatePython(dir), dir });
  assert.deepEqual(readdirSync(storage), [ENV_FOLDER], 'no partial folder left');
  assert.ok(existsSync(envPython(dir)));
  assert.equal((await readMarker(dir))?.wheelHash, await fileHash(w1));
  assert.ok(r.steps[0].startsWith('creating a virtual environment with python3'), r.steps[0]);
  assert.ok(r.steps[1].includes('specloop-0.0.1-py3-none-any.whl'));
  assert.ok(r.lines.some((l) => l.startsWith('$ ') && l.includes('-m venv')), 'each command is logged');

  // The renamed venv works: its Python finds specloop (how the server is started: python -m specloop serve).
  let probe = parseProbe(await runProbe(privatePython(dir), env, root));
  assert.ok(probe.kind === 'ok' && probe.info.venv && probe.info.specloopVersion === '0.0.1', JSON.stringify(probe));
  assert.equal(execFileSync(envPython(dir), ['-m', 'specloop'], { env, cwd: root }).toString().trim(), 'fake specloop server');

  // An updated extension: the new wheel goes into the same environment.
  const w2 = wheel(root, '0.0.2');
  const update = await installPrivateEnv({ storageDir: storage, base: privatePython(dir), wheel: w2, wheelHash: await fileHash(w2), reason: 'update', env, reporter: r.reporter });
  assert.ok(update.ok, JSON.stringify(update));
  probe = parseProbe(await runProbe(privatePython(dir), env, root));
  assert.ok(probe.kind === 'ok' && probe.info.specloopVersion === '0.0.2', JSON.stringify(probe));
  assert.equal((await readMarker(dir))?.wheel, 'specloop-0.0.2-py3-none-any.whl');

  assert.deepEqual(readdirSync(storage), [ENV_FOLDER]);
});

test('cancel kills the running step and leaves nothing behind', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-env-'));
  const storage = path.join(root, 'storage');
  const w1 = wheel(root, '0.0.1');
  const listeners: Array<() => void> = [];
  const token = {
    isCancellationRequested: false,
    onCancellationRequested(l: () => void) { listeners.push(l); return { dispose() {} }; },
  };
  const r = reporter();
  const running = installPrivateEnv({ storageDir: storage, base: python3, wheel: w1, wheelHash: 'x', reason: 'first', env, token, reporter: r.reporter });
  setTimeout(() => { token.isCancellationRequested = true; listeners.forEach((l) => l()); }, 300);
  const result = await running;
  assert.deepEqual(result, { ok: false, cancelled: true, message: "specloop: installing the server was cancelled; nothing was left behind." });
  assert.deepEqual(readdirSync(storage), []);
});

test('a failing step is named with its output; no partial environment stays', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-env-'));
  const storage = path.join(root, 'storage');
  const r = reporter();
  const missing = await installPrivateEnv({ storageDir: storage, base: { command: '/nonexistent/python3.12', args: [], source: 'setting' },
    wheel: '/x.whl', wheelHash: 'x', reason: 'first', env, reporter: r.reporter });
  assert.ok(!missing.ok && !missing.cancelled && /python -m venv: spawn \/nonexistent\/python3\.12 ENOENT/.test(missing.message), JSON.stringify(missing));
  const failing = await installPrivateEnv({ storageDir: storage, base: { command: 'python3', args: ['-c', 'import sys; sys.stderr.write("The virtual environment was not created successfully because ensurepip is not available.\\n"); sys.exit(1)'], source: 'default' },
    wheel: '/x.whl', wheelHash: 'x', reason: 'first', env, reporter: r.reporter });
  assert.ok(!failing.ok && /python -m venv failed \(exit status 1\): The virtual environment was not created successfully because ensurepip is not available\./.test(failing.message),
    JSON.stringify(failing));
  assert.deepEqual(readdirSync(storage), []);
});

test('the bundle: the newest specloop wheel in client-vscode/dist, its hash, and a checkout when there is one', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'specloop-ext-'));
  assert.deepEqual(await findBundle(root), { checkout: undefined });
  const dist = path.join(root, 'client-vscode', 'dist');
  mkdirSync(dist, { recursive: true });
  writeFileSync(path.join(dist, 'specloop-0.1.9-py3-none-any.whl'), 'a');
  writeFileSync(path.join(dist, 'specloop-0.1.10-py3-none-any.whl'), 'b');
  writeFileSync(path.join(dist, 'other-9.0-py3-none-any.whl'), 'c');
  writeFileSync(path.join(root, 'pyproject.toml'), '[project]\nname = "specloop"\n');
  const bundle = await findBundle(root);
  assert.equal(bundle.wheel, path.join(dist, 'specloop-0.1.10-py3-none-any.whl'));
  assert.equal(bundle.wheelHash, '3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d');
  assert.equal(bundle.checkout, root);
});
