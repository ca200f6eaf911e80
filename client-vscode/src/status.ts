/**
 * What the status bar item says.
 *
 * The server reports its session in a custom notification
 * `specloop/status` with `{running, queued, prompt_tokens, completion_tokens,
 * cost_usd, pending}` (numbers; `cost_usd` may be null when the model has no
 * price; `pending` lists the results that were not applied — not a clean
 * pass, or the spec changed meanwhile — as `{uri, target, status, summary}`).
 * The item shows what is true now: jobs running (and queued) while there are
 * any, else results waiting for review, else ready; a job that ended —
 * passed, failed, cancelled or in error — is no longer counted as soon as the
 * server says so. A server that never sends the notification still gets a
 * useful item: the server's state alone. Values from the wire are read
 * leniently: a field that is not a non-negative finite number (or, for
 * `pending`, not a list of objects with string `uri` and `target`) is
 * ignored, so a malformed notification cannot break the item.
 */

/** The server process as the client sees it. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'failed' | 'untrusted';

/** A result the server kept instead of applying it. */
export interface PendingResult {
  readonly uri: string;
  readonly target: string;
  readonly status: string;
  readonly summary: string;
}

/** The session figures the server reports. */
export interface SessionStatus {
  readonly running: number;
  readonly queued: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number | null;
  /** Results waiting for the user (empty when the server does not report them). */
  readonly pending: readonly PendingResult[];
  /** False until the first `specloop/status` notification arrives. */
  readonly reported: boolean;
}

export const EMPTY_SESSION: SessionStatus = {
  running: 0,
  queued: 0,
  pending: [],
  promptTokens: 0,
  completionTokens: 0,
  costUsd: null,
  reported: false,
};

/** The custom notification's method name. */
export const STATUS_NOTIFICATION = 'specloop/status';

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The `pending` list of a notification, or undefined when the field is missing or not a list. */
export function parsePending(value: unknown): PendingResult[] | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  const out: PendingResult[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) {
      continue;
    }
    const p = item as Record<string, unknown>;
    if (typeof p.uri === 'string' && typeof p.target === 'string' && p.uri && p.target) {
      out.push({
        uri: p.uri,
        target: p.target,
        status: typeof p.status === 'string' ? p.status : '',
        summary: typeof p.summary === 'string' ? p.summary : '',
      });
    }
  }
  return out;
}

/** Merges a `specloop/status` notification's params into the session (unknown or bad fields are ignored). */
export function applyStatus(prev: SessionStatus, params: unknown): SessionStatus {
  if (typeof params !== 'object' || params === null) {
    return prev;
  }
  const p = params as Record<string, unknown>;
  const cost = p.cost_usd === null ? null : count(p.cost_usd);
  return {
    running: Math.floor(count(p.running) ?? prev.running),
    queued: Math.floor(count(p.queued) ?? prev.queued),
    promptTokens: Math.floor(count(p.prompt_tokens) ?? prev.promptTokens),
    completionTokens: Math.floor(count(p.completion_tokens) ?? prev.completionTokens),
    costUsd: cost === undefined ? prev.costUsd : cost,
    pending: parsePending(p.pending) ?? prev.pending,
    reported: true,
  };
}

/** A token count for a narrow item: 950, 1.2k, 34k, 1.5M. */
export function formatTokens(n: number): string {
  if (n < 1000) {
    return String(n);
  }
  if (n < 10_000) {
    return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  }
  if (n < 1_000_000) {
    return `${Math.round(n / 1000)}k`;
  }
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

/** Dollars with enough digits to show small sums: $0.0031, $0.42, $12.30. */
export function formatCost(usd: number): string {
  if (usd === 0) {
    return '$0';
  }
  if (usd < 0.01) {
    return `$${usd.toPrecision(2)}`;
  }
  return `$${usd.toFixed(2)}`;
}

/** Text and tooltip of the status bar item, and what a click does. */
export interface StatusView {
  readonly text: string;
  readonly tooltip: string;
  /** `review`: results wait for the user and nothing runs; else the output channel. */
  readonly click: 'output' | 'review';
}

/** The status bar item's text (with a codicon) and its tooltip. */
export function formatStatus(state: ServerState, session: SessionStatus, detail = ''): StatusView {
  const total = session.promptTokens + session.completionTokens;
  const usage = session.reported && total > 0
    ? ` · ${formatTokens(total)} tok${session.costUsd !== null ? ` · ${formatCost(session.costUsd)}` : ''}`
    : '';
  const lines: string[] = [];
  let text: string;
  switch (state) {
    case 'starting':
      text = '$(loading~spin) specloop';
      lines.push('specloop: starting the server');
      break;
    case 'stopped':
      text = '$(circle-slash) specloop';
      lines.push('specloop: server stopped');
      break;
    case 'failed':
      text = '$(error) specloop';
      lines.push('specloop: the server is not running');
      break;
    case 'untrusted':
      text = '$(shield) specloop';
      lines.push('specloop: off in untrusted workspaces (it runs generated code)');
      break;
    default:
      if (session.running > 0 || session.queued > 0) {
        const jobs = session.running === 0 ? `${session.queued} queued`
          : `${session.running} job${session.running === 1 ? '' : 's'}${session.queued > 0 ? ` (+${session.queued} queued)` : ''}`;
        text = `$(sync~spin) specloop: ${jobs}${usage}`;
        lines.push(`specloop: ${session.running} job${session.running === 1 ? '' : 's'} running` +
          (session.queued > 0 ? `, ${session.queued} queued` : ''));
      } else if (session.pending.length > 0) {
        text = `$(diff) specloop: ${session.pending.length} to review${usage}`;
        lines.push(`specloop: ${session.pending.length} result${session.pending.length === 1 ? '' : 's'} not applied ` +
          '(run "specloop: Review results not applied")');
      } else {
        text = `$(check) specloop${usage}`;
        lines.push('specloop: ready');
      }
  }
  if (detail) {
    lines.push(detail);
  }
  for (const p of session.pending.slice(0, 5)) {
    lines.push(`  ${p.target}: ${p.summary || p.status}`);
  }
  if (session.reported) {
    lines.push(`Session: ${session.promptTokens} prompt + ${session.completionTokens} completion tokens` +
      (session.costUsd !== null ? `, ${formatCost(session.costUsd)}` : ''));
  }
  const review = state === 'running' && session.running === 0 && session.queued === 0 && session.pending.length > 0;
  lines.push(review ? 'Click to review them.' : 'Click to show the output.');
  return { text, tooltip: lines.join('\n'), click: review ? 'review' : 'output' };
}
