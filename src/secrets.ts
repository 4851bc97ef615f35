/**
 * Every secret the action learns is registered here before its first use. `redact` removes
 * them from any text we print or write ourselves (summaries, comments, outputs, errors), and
 * the runner is told too (via the `mask` hook) so its own log masking covers them.
 */
// A token or base64 `user:password` after the scheme; 16 characters at least, so that prose such
// as "no basic auth credentials" or a challenge's `Bearer realm="…"` is left alone.
const AUTHORIZATION_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{16,}=*/g;

export class Secrets {
  private readonly values = new Set<string>();
  constructor(private readonly mask: (value: string) => void = () => {}) {}

  /** Registers a secret and the encodings it may travel in (URL-escaped, base64 of `user:pass`). */
  add(value: string | undefined, user?: string): void {
    if (!value) return;
    const forms = [value, encodeURIComponent(value), Buffer.from(value).toString('base64')];
    if (user !== undefined) forms.push(Buffer.from(`${user}:${value}`).toString('base64'));
    for (const form of forms) {
      // Very short values would redact ordinary words; they are still masked by the runner.
      if (this.values.has(form)) continue;
      this.values.add(form);
      this.mask(form);
    }
  }

  /**
   * Replaces every registered secret in `text` with `***`, and any credential written as an
   * Authorization value (`Bearer …`, `Basic …`): a registry that echoes the request's header in
   * its error shows the engine's own token, which the action never saw and so cannot register.
   */
  redact(text: string): string {
    let out = text.replace(AUTHORIZATION_VALUE, '$1 ***');
    // Longest first, so a secret containing another is replaced whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (v.length < 3) continue;
      out = out.split(v).join('***');
    }
    return out;
  }

  has(text: string): boolean {
    for (const v of this.values) if (v.length >= 3 && text.includes(v)) return true;
    return false;
  }
}
