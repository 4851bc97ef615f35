import { ActionError } from '../errors.js';

/**
 * Reads raw inputs the way the runner passes them: `INPUT_<NAME>` with the name upper-cased,
 * spaces turned into underscores and dashes kept (`INPUT_REGISTRY-PASSWORD`). Collects every
 * problem instead of stopping at the first, so a person fixes their workflow in one go.
 */
export class RawInputs {
  readonly problems: ActionError[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The trimmed value, or undefined when the input is empty or absent. */
  get(name: string): string | undefined {
    const value = this.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`]?.trim();
    return value ? value : undefined;
  }

  /** The raw value with inner whitespace kept (multi-line inputs), or undefined when empty. */
  multiline(name: string): string | undefined {
    const value = this.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
    return value && value.trim() ? value : undefined;
  }

  /** Reports a problem with `name` and keeps going. */
  fail(name: string, message: string, fix?: string): undefined {
    this.problems.push(new ActionError(message, { input: name, phase: 'inputs' }, fix));
    return undefined;
  }

  /** YAML 1.2 core booleans as GitHub's getBooleanInput accepts them; anything else is a problem. */
  bool(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if (['true', 'True', 'TRUE'].includes(value)) return true;
    if (['false', 'False', 'FALSE'].includes(value)) return false;
    this.fail(name, `'${value}' is not a boolean`, `write true or false (YAML 1.2: 'yes', 'on' and '1' are not booleans here)`);
    return fallback;
  }

  /** One of a fixed set of words. */
  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.fail(name, `'${value}' is not one of ${allowed.join(', ')}`, `use one of: ${allowed.join(', ')}`);
    return fallback;
  }

  /** Newline- or comma-separated items, trimmed, empties dropped. */
  list(name: string, separators: RegExp = /[\n,]/): string[] {
    const value = this.multiline(name);
    if (value === undefined) return [];
    return value
      .split(separators)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }

  /** `KEY=VALUE` lines (build-args, labels). Values keep inner spaces; a line without `=` is a problem. */
  keyValues(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    const value = this.multiline(name);
    if (value === undefined) return out;
    for (const line of value.split(/\r?\n/)) {
      if (!line.trim() || line.trim().startsWith('#')) continue;
      const eq = line.indexOf('=');
      const key = eq > 0 ? line.slice(0, eq).trim() : '';
      if (!key) {
        this.fail(name, `line '${line.trim()}' is not KEY=VALUE`, 'write one KEY=VALUE per line');
        continue;
      }
      if (Object.hasOwn(out, key)) this.fail(name, `'${key}' is given twice`, 'give each key once');
      out[key] = line.slice(eq + 1);
    }
    return out;
  }
}
