/**
 * Reads BuildKit's plain progress (`#5 [internal] load build context` … `#5 DONE 0.3s`), which
 * both the docker CLI (`--progress=plain`) and our log print: which steps ran and which were CACHED.
 */
interface Step {
  name: string;
  seconds?: number;
  cached: boolean;
}

export function parseSteps(log: string): Step[] {
  const steps = new Map<string, Step>();
  for (const raw of log.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(raw.trim());
    if (!m) continue;
    const [, id, text] = m as unknown as [string, string, string];
    const step = steps.get(id);
    if (!step) {
      steps.set(id, { name: text, cached: false });
      continue;
    }
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(text);
    if (done) step.seconds = Number(done[1]);
    if (text === 'CACHED') step.cached = true;
  }
  return [...steps.values()];
}

/** Whether the step whose name contains `text` was CACHED (undefined: no such step). */
export function stepCached(log: string, text: string): boolean | undefined {
  const step = parseSteps(log).find((s) => s.name.includes(text));
  return step?.cached;
}
