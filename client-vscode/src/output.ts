/**
 * The "specloop" output channel, with stored API keys masked.
 *
 * The language client writes the server's stderr and `window/logMessage`
 * into this channel; a provider's error message may quote the key it was
 * sent. Every text-taking method of the channel passes its text through
 * `redact` with the keys current at that moment.
 */

import * as vscode from 'vscode';
import { redact } from './secrets';

const TEXT_METHODS = new Set(['append', 'appendLine', 'replace', 'trace', 'debug', 'info', 'warn', 'error']);

/** Wraps `channel` so the given secrets never reach it in clear. */
export function redacting(channel: vscode.LogOutputChannel, secrets: () => readonly string[]): vscode.LogOutputChannel {
  return new Proxy(channel, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === 'string' && TEXT_METHODS.has(prop) && typeof value === 'function') {
        return (first: unknown, ...rest: unknown[]) => {
          const current = secrets();
          const clean = typeof first === 'string'
            ? redact(first, current)
            : first instanceof Error ? redact(first.stack ?? first.message, current) : first;
          const cleanRest = rest.map((r) => (typeof r === 'string' ? redact(r, current) : r));
          return (value as (...args: unknown[]) => unknown).call(target, clean, ...cleanRest);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Creates the extension's log channel, masked. */
export function createOutputChannel(secrets: () => readonly string[]): vscode.LogOutputChannel {
  return redacting(vscode.window.createOutputChannel('specloop', { log: true }), secrets);
}
