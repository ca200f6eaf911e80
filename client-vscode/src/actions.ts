/**
 * The server's contract, as the client uses it (DESIGN.md, contract 5), and
 * the choice of the code action behind "Implement spec at cursor".
 *
 * "At cursor" asks the server for its code actions at the cursor, limited to
 * the `refactor.rewrite.specloop` kind, and runs the one whose command is
 * `specloop.generate`. The client thus never builds a `target` argument
 * itself: the server that found the spec also says how to name it.
 */

export const COMMAND_GENERATE = 'specloop.generate';
export const COMMAND_GENERATE_ALL = 'specloop.generateAll';
export const COMMAND_CANCEL = 'specloop.cancel';
export const ACTION_KIND = 'refactor.rewrite.specloop';
export const DIAGNOSTIC_SOURCE = 'specloop';

/** An LSP Command, as found on the wire. */
export interface WireCommand {
  readonly title?: string;
  readonly command: string;
  readonly arguments?: unknown[];
}

/** An LSP CodeAction (or bare Command), reduced to the fields read here. */
export interface WireAction {
  readonly title?: string;
  readonly kind?: string;
  readonly command?: WireCommand | string;
  readonly arguments?: unknown[];
  readonly data?: unknown;
  readonly disabled?: { readonly reason: string };
}

/** True for the specloop kind and its sub-kinds (`refactor.rewrite.specloop.x`). */
export function isSpecloopKind(kind: string | undefined): boolean {
  return kind !== undefined && (kind === ACTION_KIND || kind.startsWith(`${ACTION_KIND}.`));
}

/** The command an action would run, for a CodeAction or a bare Command. */
export function commandOf(action: WireAction): WireCommand | undefined {
  if (typeof action.command === 'string') {
    return { title: action.title, command: action.command, arguments: action.arguments };
  }
  return action.command;
}

/**
 * The action to run for "implement at cursor": the first enabled specloop
 * action whose command is `specloop.generate`; failing that, the first
 * enabled specloop action that still needs resolving (it has `data` but no
 * command yet). `undefined` when the cursor is on no spec.
 */
export function pickSpecAction(actions: readonly WireAction[] | null | undefined): WireAction | undefined {
  const list = (actions ?? []).filter((a) => !a.disabled);
  const generate = list.find((a) => commandOf(a)?.command === COMMAND_GENERATE && (a.kind === undefined || isSpecloopKind(a.kind)));
  if (generate) {
    return generate;
  }
  return list.find((a) => isSpecloopKind(a.kind) && commandOf(a) === undefined && a.data !== undefined);
}

/** A reason the cursor has no action, from the disabled specloop actions if the server gave one. */
export function noActionReason(actions: readonly WireAction[] | null | undefined): string {
  const disabled = (actions ?? []).find((a) => a.disabled && isSpecloopKind(a.kind));
  return disabled?.disabled?.reason ??
    'No spec at the cursor: put the cursor in a function whose body is only a docstring, or in a "# spec:" comment block.';
}
