/**
 * Checks for inputs the Docker engine or GitHub would otherwise refuse only after the action had
 * started working: a bad `platform`, `network`, `cache-from` or `target` used to reach the engine
 * (context packed and uploaded) before failing, and a bad `environment-url` failed at the very
 * end, after the deploy. Each returns the problem as text, or undefined when the value is fine.
 */
import { readFileSync } from 'node:fs';
import { parseReference } from '../image/reference.js';

/** containerd's platform grammar: `os[/arch[/variant]]`, one platform. */
const PLATFORM = /^[a-z0-9_-]+(\/[a-z0-9_-]+){0,2}$/i;
/** Docker's network name grammar (`default`, `none`, `host` or a user-defined network). */
const NETWORK = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function platformProblem(value: string): string | undefined {
  if (value.includes(','))
    return `'${value}' lists several platforms; a multi-platform build needs Buildx, which the Engine API does not offer`;
  return PLATFORM.test(value) ? undefined : `'${value}' is not a platform (os/arch[/variant], e.g. linux/amd64)`;
}

export function networkProblem(value: string): string | undefined {
  return NETWORK.test(value) ? undefined : `'${value}' is not a network mode or network name`;
}

/** The first `cache-from` entry that is not an image reference, with the parser's reason. */
export function cacheFromProblem(refs: readonly string[]): string | undefined {
  for (const ref of refs) {
    try {
      parseReference(ref);
    } catch (e) {
      return `'${ref}' is not an image reference: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * Stage names declared with `FROM … AS <name>` (lowercased, as Docker compares them), or
 * undefined when the Dockerfile cannot be read (another check reports that).
 */
export function dockerfileStages(dockerfile: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    return undefined;
  }
  // Join continuation lines first, so a FROM split with `\` is still one instruction.
  const joined = text.replace(/\\\r?\n/g, ' ');
  const stages: string[] = [];
  for (const m of joined.matchAll(/^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$/gim)) stages.push(m[1]!.toLowerCase());
  return stages;
}

export function targetProblem(target: string, dockerfile: string, shown: string): string | undefined {
  const stages = dockerfileStages(dockerfile);
  if (stages === undefined || stages.includes(target.toLowerCase())) return undefined;
  return `stage '${target}' is not in ${shown} (${stages.length ? `its stages: ${stages.join(', ')}` : 'it names no stages with FROM … AS <name>'})`;
}

export function urlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
  } catch {
    // reported below
  }
  return `'${value}' is not an http(s) URL`;
}
