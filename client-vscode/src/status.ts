/**
 * What the status bar item says.
 *
 * The server reports its session in a custom notification
 * `specloop/status` with `{running, prompt_tokens, completion_tokens,
 * cost_usd}` (numbers; `cost_usd` may be null when the model has no price).
 * A server that never sends it still gets a useful item: the server's state
 * alone. Values from the wire are read leniently: anything that is not a
 * non-negative finite number is ignored, so a malformed notification cannot
 * break the item.
 */

/** The server process as the client sees it. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'failed' | 'untrusted';

/** The session figures the server reports. */
export interface SessionStatus {
  readonly running: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number | null;
  /** False until the first `specloop/status` notification arrives. */
  readonly reported: boolean;
}

export const EMPTY_SESSION: SessionStatus = {
  running: 0,
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

/** Merges a `specloop/status` notification's params into the session (unknown or bad fields are ignored). */
export function applyStatus(prev: SessionStatus, params: unknown): SessionStatus {
  if (typeof params !== 'object' || params === null) {
    return prev;
  }
  const p = params as Record<string, unknown>;
  const cost = p.cost_usd === null ? null : count(p.cost_usd);
  return {
    running: Math.floor(count(p.running) ?? prev.running),
    promptTokens: Math.floor(count(p.prompt_tokens) ?? prev.promptTokens),
    completionTokens: Math.floor(count(p.completion_tokens) ?? prev.completionTokens),
    costUsd: cost === undefined ? prev.costUsd : cost,
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

/** Text and tooltip of the status bar item. */
export interface StatusView {
  readonly text: string;
  readonly tooltip: string;
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
      if (session.running > 0) {
        text = `$(sync~spin) specloop: ${session.running} job${session.running === 1 ? '' : 's'}${usage}`;
        lines.push(`specloop: ${session.running} job${session.running === 1 ? '' : 's'} running`);
      } else {
        text = `$(check) specloop${usage}`;
        lines.push('specloop: ready');
      }
  }
  if (detail) {
    lines.push(detail);
  }
  if (session.reported) {
    lines.push(`Session: ${session.promptTokens} prompt + ${session.completionTokens} completion tokens` +
      (session.costUsd !== null ? `, ${formatCost(session.costUsd)}` : ''));
  }
  lines.push('Click to show the output.');
  return { text, tooltip: lines.join('\n') };
}
