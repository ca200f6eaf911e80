/**
 * Results the server did not apply (see status.ts), the pure part: which of
 * them to announce, how the announcement reads, and how a proposal's virtual
 * document is named. The window glue is review.ts.
 *
 * Decisions:
 * - A pending result is announced once, when it first appears in a
 *   `specloop/status` notification. It is identified by document, target,
 *   status and summary (and the server's `id` when it sends one), so a new
 *   job's result on the same function is announced again, and a result that
 *   left the list (applied, replaced, discarded) and comes back is too.
 * - "Discard" hides the result in this window (no longer counted in the
 *   status bar nor offered for review) until a newer result replaces it, and
 *   calls the server's `specloop.discardResult` where the server lists it
 *   (it drops the result and the diagnostic offering it).
 * - A proposal is shown as `specloop-proposed:<the file's path>?uri=…&target=…`:
 *   the path keeps the file name and language in the diff editor's title and
 *   highlighting; the query says which result it is.
 */

import type { PendingResult } from './status';

export const PROPOSED_SCHEME = 'specloop-proposed';

/** The contract's commands for pending results. */
export const COMMAND_PREVIEW = 'specloop.previewResult';
export const COMMAND_APPLY = 'specloop.applyResult';
export const COMMAND_SHOW = 'specloop.showResult';
/** Used only when the server offers it (servers before it kept a discarded result). */
export const COMMAND_DISCARD = 'specloop.discardResult';
/** What the server says of a result whose code is already in the document. */
export const NOTHING_TO_APPLY = 'nothing to apply: the code is already what the result says';

/** What `specloop.previewResult` answers. */
export interface Preview {
  readonly uri: string;
  readonly target: string;
  readonly status: string;
  readonly summary: string;
  readonly original: string;
  /** null while the result cannot be placed in the document as it is (e.g. the file does not parse). */
  readonly proposed: string | null;
}

/** Reads a `specloop.previewResult` answer leniently; undefined for null (nothing kept) or a malformed answer. */
export function parsePreview(value: unknown): Preview | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if ((typeof v.proposed !== 'string' && v.proposed !== null) || typeof v.uri !== 'string' || typeof v.target !== 'string') {
    return undefined;
  }
  const text = (x: unknown) => (typeof x === 'string' ? x : '');
  return { uri: v.uri, target: v.target, status: text(v.status), summary: text(v.summary), original: text(v.original), proposed: v.proposed };
}

/** The identity of a pending result, for "announced already". */
export function pendingKey(p: PendingResult & { id?: unknown }): string {
  return JSON.stringify([p.uri, p.target, p.status, p.summary, p.id ?? null]);
}

/** The result's function name without its class: `Shape.area` -> `area`. */
export function shortName(target: string): string {
  return target.split('.').pop() || target;
}

/** The file name of a document URI. */
export function fileName(uri: string): string {
  const path = uri.replace(/[?#].*$/, '');
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || uri;
}

/** "specloop: area failed 1/3 tests", from the server's summary (its status when there is none). */
export function announcement(p: PendingResult): string {
  let what = (p.summary || p.status || 'not applied').trim();
  // The server's summaries read "failed: 1/3 tests passed"; drop the colon after a leading status word.
  if (p.status && what.startsWith(`${p.status}:`)) {
    what = `${p.status}${what.slice(p.status.length + 1)}`;
  }
  return `specloop: ${p.target} ${what}`;
}

/** The diff editor's title. */
export function diffTitle(p: { uri: string; target: string; status: string; summary: string }): string {
  const why = p.summary || p.status;
  return `${fileName(p.uri)} ↔ specloop's ${p.target}${why ? ` (${why})` : ''}`;
}

/** The query of a proposal's URI. */
export function proposedQuery(uri: string, target: string): string {
  return new URLSearchParams({ uri, target }).toString();
}

/** The result a proposal's URI stands for, or undefined. */
export function parseProposedQuery(query: string): { uri: string; target: string } | undefined {
  const params = new URLSearchParams(query);
  const uri = params.get('uri');
  const target = params.get('target');
  return uri && target ? { uri, target } : undefined;
}

/** Decides which pending results to announce, and which the user discarded. */
export class PendingTracker {
  private announced = new Set<string>();
  private discarded = new Set<string>();
  private current: PendingResult[] = [];

  /** The results the server listed last. */
  get list(): readonly PendingResult[] {
    return this.current;
  }

  /** Takes the server's list; returns the results to announce now. */
  update(list: readonly PendingResult[]): PendingResult[] {
    const keys = new Set(list.map(pendingKey));
    // Forget what left the list, so that it is announced again if it comes back.
    this.announced = new Set([...this.announced].filter((k) => keys.has(k)));
    this.discarded = new Set([...this.discarded].filter((k) => keys.has(k)));
    const fresh = list.filter((p) => !this.announced.has(pendingKey(p)));
    for (const p of fresh) {
      this.announced.add(pendingKey(p));
    }
    this.current = [...list];
    return fresh;
  }

  /** The listed results the user did not discard (what the status bar counts). */
  visible(list: readonly PendingResult[] = this.current): PendingResult[] {
    return list.filter((p) => !this.discarded.has(pendingKey(p)));
  }

  /** The user discarded a result: no longer counted or offered (until a new result replaces it). */
  discard(uri: string, target: string): void {
    for (const p of this.current.filter((x) => x.uri === uri && x.target === target)) {
      this.discarded.add(pendingKey(p));
    }
  }

  /** Finds a listed result. */
  find(uri: string, target: string): PendingResult | undefined {
    return this.current.find((p) => p.uri === uri && p.target === target);
  }

  /** Forgets everything (the server restarted: its pending results are gone). */
  reset(): void {
    this.announced.clear();
    this.discarded.clear();
    this.current = [];
  }
}
