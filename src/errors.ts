/**
 * The one user-facing error type. Its message says what went wrong; `where` says where
 * (an input, a file position, a rack step) and `fix` says what to do about it.
 */
export interface ErrorPlace {
  /** The action input at fault, as named in action.yml (e.g. `registry-password`). */
  readonly input?: string;
  /** A file in the workspace, relative to it, with an optional 1-based position. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** The phase the action was in: `inputs`, `plan`, `build`, `push`, `manifest`, `deploy`, `report`. */
  readonly phase?: string;
}

export class ActionError extends Error {
  override readonly name = 'ActionError';
  readonly place: ErrorPlace;
  readonly fix: string | undefined;

  constructor(message: string, place: ErrorPlace = {}, fix?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.place = place;
    this.fix = fix;
  }

  /** The full text shown to a person: message, then the fix on its own line. */
  describe(): string {
    const where = this.place.input ? `input '${this.place.input}': ` : '';
    return `${where}${this.message}${this.fix ? `\n  Fix: ${this.fix}` : ''}`;
  }
}

/** Several input problems reported at once, each naming its input. */
export class InputErrors extends ActionError {
  readonly problems: readonly ActionError[];
  constructor(problems: readonly ActionError[]) {
    super(
      `${problems.length} input problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p.describe().replace(/\n/g, '\n    ')}`).join('\n'),
      { phase: 'inputs', input: problems[0]?.place.input },
    );
    this.problems = problems;
  }
  override describe(): string {
    return this.message;
  }
}

/** The message of any thrown value, for the one catch in run(). */
export function describeError(e: unknown): string {
  if (e instanceof ActionError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
