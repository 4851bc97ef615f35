/** A handler failure with the HTTP status the real rack would answer (doc §1). */
export class RackError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** 404 `app not found: <name>` — typed on v3 ≥ 3.24.1 and on v2 alike (doc §2.4). */
export function appNotFound(name: string): RackError {
  return new RackError(404, `app not found: ${name}`);
}
