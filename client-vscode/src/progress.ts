/**
 * A job's work-done progress as a cancellable notification.
 *
 * vscode-languageclient shows server-created work-done progress only in the
 * status bar (`ProgressLocation.Window`): a small spinner that cannot be
 * cancelled. specloop's jobs take tens of seconds, so each one gets a
 * notification instead (`ProgressLocation.Notification`) with the job's title
 * ("specloop: area"), the phase as its message, the server's percentage as
 * its bar, and a Cancel button when the server marks the progress
 * cancellable. Cancel sends `window/workDoneProgress/cancel` for the token;
 * the server cancels the job and ends the progress, which closes the
 * notification. The status bar item is driven by `specloop/status` alone, so
 * it is right after a cancel or an error whatever the notification did.
 *
 * This class sits in the client's `handleWorkDoneProgress` middleware: it
 * takes `begin` and `report` (the library's status-bar spinner never starts)
 * and passes `end` on so the library forgets the token. If the server goes
 * away mid-job, `clear()` closes every notification. The window API is
 * injected, so the tracker is unit-tested without VS Code.
 */

/** One open notification. */
export interface ProgressHandle {
  report(value: { message?: string; increment?: number }): void;
  /** Closes the notification. */
  close(): void;
}

/** Opens a notification; `onCancel` runs when the user presses Cancel. */
export type OpenProgress = (title: string, cancellable: boolean, onCancel: () => void) => ProgressHandle;

/** The `$/progress` values, as on the wire. */
export type WorkDoneValue =
  | { kind: 'begin'; title: string; cancellable?: boolean; message?: string; percentage?: number }
  | { kind: 'report'; cancellable?: boolean; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

type Token = string | number;

interface Entry {
  readonly title: string;
  readonly handle: ProgressHandle;
  reported: number;
  cancelRequested: boolean;
}

/** How a job's progress ended, for the status bar's tooltip. */
export interface ProgressEnded {
  readonly title: string;
  readonly message: string;
  /** The user pressed Cancel on its notification. */
  readonly cancelRequested: boolean;
}

export class ProgressNotifications {
  private readonly open = new Map<Token, Entry>();

  constructor(
    private readonly openProgress: OpenProgress,
    private readonly sendCancel: (token: Token) => void,
    private readonly onEnded: (ended: ProgressEnded) => void = () => undefined,
  ) {}

  /** How many notifications are open. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Handles one `$/progress` value; returns true when the library should see
   * it too (only `end`, so it forgets the token).
   */
  handle(token: Token, value: WorkDoneValue): boolean {
    switch (value.kind) {
      case 'begin': {
        this.open.get(token)?.handle.close();
        const entry: Entry = {
          title: value.title || 'specloop',
          handle: this.openProgress(value.title || 'specloop', value.cancellable === true, () => this.cancel(token)),
          reported: 0,
          cancelRequested: false,
        };
        this.open.set(token, entry);
        this.report(entry, value.message, value.percentage);
        return false;
      }
      case 'report': {
        const entry = this.open.get(token);
        if (entry) {
          this.report(entry, value.message, value.percentage);
        }
        return false;
      }
      case 'end': {
        const entry = this.open.get(token);
        if (entry) {
          this.open.delete(token);
          entry.handle.close();
          this.onEnded({ title: entry.title, message: value.message ?? '', cancelRequested: entry.cancelRequested });
        }
        return true;
      }
      default:
        return true;
    }
  }

  /** Closes every notification (the server stopped or restarted). */
  clear(): void {
    const entries = [...this.open.values()];
    this.open.clear();
    for (const entry of entries) {
      entry.handle.close();
    }
  }

  private report(entry: Entry, message: string | undefined, percentage: number | undefined): void {
    if (typeof percentage === 'number' && Number.isFinite(percentage)) {
      const target = Math.max(0, Math.min(100, percentage));
      const increment = Math.max(0, target - entry.reported);
      entry.reported += increment;
      entry.handle.report({ message, increment: increment > 0 ? increment : undefined });
    } else if (message !== undefined) {
      entry.handle.report({ message });
    }
  }

  private cancel(token: Token): void {
    const entry = this.open.get(token);
    if (entry && !entry.cancelRequested) {
      entry.cancelRequested = true;
      this.sendCancel(token);
    }
  }
}
