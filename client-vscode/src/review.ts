/**
 * A diff before anything that is not a clean pass is applied.
 *
 * The server keeps a result that did not pass (or whose spec changed
 * meanwhile) instead of applying it, and lists it in `specloop/status` as
 * `pending`. For each new one the user gets a notification
 * ("specloop: area failed: 1/3 tests passed" — Show diff / Apply anyway /
 * Discard). "Show diff" asks the server for `specloop.previewResult` and
 * opens `vscode.diff` between the document and a read-only virtual document
 * (`specloop-proposed:`) holding the proposed text; the diff editor's title
 * bar has Apply and Discard buttons. A result whose text is the document's
 * already is "nothing to apply": no empty diff, and an Apply the server
 * answers with `unchanged` is said as such, not as a refusal. The
 * notification hides itself after a while (VS Code's way with warnings); the
 * status bar keeps counting the result ("1 to review") until it is applied or
 * discarded, and a click there offers it again. Discard tells the server
 * (`specloop.discardResult`) and the status bar stops counting it at once. Apply runs `specloop.applyResult` (the
 * server places the result with a versioned edit) and closes the diff.
 * While the diff is open, edits to the document refresh the proposal (the
 * server places the result in the text as it is now).
 *
 * The pure parts (what to announce, texts, URIs) are in pending.ts.
 */

import * as vscode from 'vscode';
import {
  announcement, COMMAND_APPLY, COMMAND_DISCARD, NOTHING_TO_APPLY, COMMAND_PREVIEW, COMMAND_SHOW, diffTitle, fileName, parsePreview, parseProposedQuery,
  PendingTracker, Preview, PROPOSED_SCHEME, proposedQuery,
} from './pending';
import type { PendingResult } from './status';

/** What the review needs from the server manager. */
export interface ReviewServer {
  executeCommand(command: string, args: unknown[]): Promise<unknown>;
  /** The commands the running server announced (`executeCommandProvider.commands`). */
  serverCommands(): readonly string[];
}

export const SHOW_DIFF = 'Show diff';
export const APPLY_ANYWAY = 'Apply anyway';
export const DISCARD = 'Discard';

const REFRESH_MS = 400;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Which = { uri: string; target: string };

export class PendingReview implements vscode.TextDocumentContentProvider, vscode.Disposable {
  readonly tracker = new PendingTracker();
  private readonly previews = new Map<string, Preview>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly visibleChanged = new vscode.EventEmitter<void>();
  /** The results to count changed here (a Discard): the status bar counts again at once. */
  readonly onDidChangeVisible = this.visibleChanged.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly server: ReviewServer, private readonly output: vscode.LogOutputChannel) {
    this.disposables.push(
      this.changed,
      this.visibleChanged,
      vscode.workspace.registerTextDocumentContentProvider(PROPOSED_SCHEME, this),
      vscode.workspace.onDidChangeTextDocument((e) => this.documentChanged(e.document.uri.toString())),
    );
  }

  /** Takes the server's `pending` list and announces the new results. */
  update(list: readonly PendingResult[]): void {
    for (const p of this.tracker.update(list)) {
      void this.announce(p);
    }
  }

  /** The results to count and offer: the server's, less the ones discarded here. */
  visible(list: readonly PendingResult[]): PendingResult[] {
    return this.tracker.visible(list);
  }

  /** The server restarted: its kept results are gone. */
  reset(): void {
    this.tracker.reset();
    this.previews.clear();
  }

  /** The notification for one result: new, or offered again by `review`. */
  async announce(p: PendingResult): Promise<void> {
    this.output.info(`${announcement(p)}: not applied; waiting for review.`);
    const choice = await vscode.window.showWarningMessage(announcement(p), SHOW_DIFF, APPLY_ANYWAY, DISCARD);
    if (choice === SHOW_DIFF) {
      await this.showDiff(p);
    } else if (choice === APPLY_ANYWAY) {
      await this.apply(p);
    } else if (choice === DISCARD) {
      await this.discard(p);
    }
  }

  /** The virtual document of a result's proposal. */
  proposedUri(which: Which): vscode.Uri {
    const doc = vscode.Uri.parse(which.uri);
    return vscode.Uri.from({ scheme: PROPOSED_SCHEME, path: doc.path || `/${which.target}.py`, query: proposedQuery(which.uri, which.target) });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const which = parseProposedQuery(uri.query);
    if (!which) {
      return '';
    }
    const preview = this.previews.get(this.key(which)) ?? await this.fetch(which);
    if (preview && preview.proposed === null) {
      return `# specloop: the result for ${which.target} cannot be placed in the file as it is now (does it parse?).\n`;
    }
    return preview?.proposed ??
      `# specloop: the result for ${which.target} is no longer waiting (it was applied or replaced, or the server restarted).\n`;
  }

  /** Opens the diff of a result: the document on the left, the proposal on the right. */
  async showDiff(which: Which): Promise<void> {
    const preview = await this.fetch(which);
    if (!preview) {
      void vscode.window.showInformationMessage(`specloop: the result for ${which.target} is no longer waiting to be applied.`);
      return;
    }
    if (preview.proposed === preview.original) {
      // An empty diff shows nothing and Apply would change nothing.
      void vscode.window.showInformationMessage(`specloop: ${which.target}: ${NOTHING_TO_APPLY}.`);
      return;
    }
    if (preview.proposed === null) {
      // No diff to show: the result cannot be placed in the text as it is now. Show the attempt on its own.
      void vscode.window.showWarningMessage(`specloop: ${which.target}'s result cannot be placed in the file as it is now ` +
        '(does the file parse?); it opens on its own.');
      try {
        await this.server.executeCommand(COMMAND_SHOW, [{ uri: which.uri, target: which.target }]);
      } catch (error) {
        this.output.warn(`specloop.showResult for ${which.target}: ${message(error)}`);
      }
      return;
    }
    const right = this.proposedUri(which);
    this.changed.fire(right);
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.parse(which.uri), right, diffTitle(preview), { preview: false });
  }

  /** Applies a result with `specloop.applyResult`, then closes its diff. */
  async apply(which: Which): Promise<boolean> {
    let applied = false;
    try {
      const answer = await this.server.executeCommand(COMMAND_APPLY, [{ uri: which.uri, target: which.target }]);
      const a = typeof answer === 'object' && answer !== null ? answer as Record<string, unknown> : {};
      applied = a.applied !== false;
      if (a.unchanged === true) {
        // The document holds the result already: nothing was sent, nothing is kept.
        void vscode.window.showInformationMessage(`specloop: ${which.target}: ${NOTHING_TO_APPLY}.`);
        this.previews.delete(this.key(which));
        await this.closeDiffs(which);
        return true;
      }
      if (!applied) {
        const detail = typeof a.detail === 'string' && a.detail ? `: ${a.detail}` : '';
        void vscode.window.showWarningMessage(`specloop: ${which.target}'s result was not applied${detail}`);
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`specloop: applying ${which.target}'s result failed: ${message(error)}`);
      return false;
    }
    if (applied) {
      this.output.info(`${which.target} (${fileName(which.uri)}): result applied after review.`);
      this.previews.delete(this.key(which));
      await this.closeDiffs(which);
    }
    return applied;
  }

  /** Discards a result: closes its diff, forgets it here, and tells the server when it has a command for that. */
  async discard(which: Which): Promise<void> {
    if (this.server.serverCommands().includes(COMMAND_DISCARD)) {
      try {
        await this.server.executeCommand(COMMAND_DISCARD, [{ uri: which.uri, target: which.target }]);
      } catch (error) {
        this.output.warn(`discarding ${which.target}'s result on the server: ${message(error)}`);
      }
    }
    this.tracker.discard(which.uri, which.target);
    this.visibleChanged.fire();
    this.previews.delete(this.key(which));
    this.output.info(`${which.target} (${fileName(which.uri)}): result discarded; the code is unchanged.`);
    await this.closeDiffs(which);
  }

  /**
   * The result an Apply / Discard button or palette command means: the
   * proposal URI it was given (the editor title passes the diff's right
   * side), else the active diff's, else one picked from the list.
   */
  async resolve(arg: unknown): Promise<Which | undefined> {
    const fromUri = (u: unknown) => (u instanceof vscode.Uri && u.scheme === PROPOSED_SCHEME ? parseProposedQuery(u.query) : undefined);
    const given = fromUri(arg);
    if (given) {
      return given;
    }
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const active = input instanceof vscode.TabInputTextDiff ? fromUri(input.modified)
      : input instanceof vscode.TabInputText ? fromUri(input.uri) : undefined;
    return active ?? this.pick();
  }

  /** Lets the user pick one of the server's pending results. */
  async pick(): Promise<PendingResult | undefined> {
    const list = this.tracker.visible();
    if (list.length === 0) {
      void vscode.window.showInformationMessage('specloop: no result is waiting for review.');
      return undefined;
    }
    const items = list.map((p) => ({ label: p.target, description: fileName(p.uri), detail: p.summary || p.status, p }));
    const picked = await vscode.window.showQuickPick(items, { title: 'specloop: results not applied', placeHolder: 'Show the diff of…' });
    return picked?.p;
  }

  /**
   * "Review results not applied" (the palette, and a click on the status bar's "N to review"):
   * the offer of a result again — Show diff / Apply anyway / Discard — picked from the list
   * when there are several. The notification of a new result hides itself after a while; the
   * result stays counted in the status bar until the user acts on it, and this brings its
   * offer back.
   */
  async review(): Promise<void> {
    const list = this.tracker.visible();
    const which = list.length === 1 ? list[0] : await this.pick();
    if (which) {
      await this.announce(which);
    }
  }

  dispose(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    this.disposables.splice(0).forEach((d) => d.dispose());
  }

  private key(which: Which): string {
    return JSON.stringify([which.uri, which.target]);
  }

  private async fetch(which: Which): Promise<Preview | undefined> {
    try {
      const preview = parsePreview(await this.server.executeCommand(COMMAND_PREVIEW, [{ uri: which.uri, target: which.target }]));
      if (preview) {
        this.previews.set(this.key(which), preview);
      } else {
        this.previews.delete(this.key(which));
      }
      return preview;
    } catch (error) {
      this.output.warn(`specloop.previewResult for ${which.target}: ${message(error)}`);
      return undefined;
    }
  }

  private async closeDiffs(which: Which): Promise<void> {
    const right = this.proposedUri(which).toString();
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) =>
      (t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === right) ||
      (t.input instanceof vscode.TabInputText && t.input.uri.toString() === right));
    if (tabs.length > 0) {
      await vscode.window.tabGroups.close(tabs);
    }
  }

  /** The document of an open proposal changed: ask for the proposal again, shortly. */
  private documentChanged(uri: string): void {
    const open = vscode.workspace.textDocuments.filter((d) => d.uri.scheme === PROPOSED_SCHEME && parseProposedQuery(d.uri.query)?.uri === uri);
    for (const doc of open) {
      const which = parseProposedQuery(doc.uri.query) as Which;
      const key = this.key(which);
      clearTimeout(this.timers.get(key));
      this.timers.set(key, setTimeout(() => {
        this.timers.delete(key);
        void this.fetch(which).then(() => this.changed.fire(doc.uri));
      }, REFRESH_MS));
    }
  }
}
