import type { Log } from '../log.js';
import { phaseOf, type StepOutcome } from '../plan/steps.js';
import type { PhaseName, PhaseRecord, Plan, PlanStep } from '../plan/types.js';

/**
 * The one record of a run: times each phase, runs it inside a log group, remembers which phase
 * was running (so a failure or a cancellation can say where it stopped), and notes how each of
 * the plan's steps fared. Reports read this record and nothing else.
 *
 * Steps start as the plan says: skipped (with its reason) or not reached. A phase that succeeds
 * marks its running steps done; one that fails marks the first of them not yet done as failed.
 * Phases that run several steps in one call report each as it finishes with `done`.
 */
export class PhaseRecorder {
  readonly records: PhaseRecord[] = [];
  current: PhaseName | undefined;
  private plan: Plan | undefined;
  private outcomes: StepOutcome[] = [];

  constructor(
    private readonly log: Log,
    private readonly clock: () => number = Date.now,
    private readonly onPhase: (phase: PhaseName) => void = () => {},
  ) {}

  /** Starts the step record from the plan: every step skipped or not reached. */
  planned(plan: Plan): void {
    this.plan = plan;
    this.outcomes = plan.steps.map((s) =>
      s.runs ? { id: s.id, status: 'not-reached' } : { id: s.id, status: 'skipped', reason: s.skipped ?? 'not needed' },
    );
  }

  /** How each plan step fared, in the plan's order. */
  get steps(): readonly StepOutcome[] {
    return this.outcomes;
  }

  /** The plan's steps that phase `name` executes in this run. */
  stepsOf(name: PhaseName): PlanStep[] {
    return (this.plan?.steps ?? []).filter((s) => s.runs && phaseOf(s.id) === name);
  }

  async run<T>(name: PhaseName, title: string, fn: () => Promise<T>): Promise<T> {
    const started = this.clock();
    this.current = name;
    this.onPhase(name);
    try {
      const value = await this.log.group(title, fn);
      this.records.push({ name, status: 'ok', durationMs: this.clock() - started });
      for (const s of this.stepsOf(name)) if (this.outcomeOf(s)?.status === 'not-reached') this.set(s, { status: 'done' });
      return value;
    } catch (e) {
      this.records.push({ name, status: 'failed', durationMs: this.clock() - started });
      const failing = this.stepsOf(name).find((s) => this.outcomeOf(s)?.status === 'not-reached');
      if (failing && !this.stepsOf(name).some((s) => this.outcomeOf(s)?.status === 'failed'))
        this.set(failing, { status: 'failed' });
      throw e;
    } finally {
      this.current = undefined;
    }
  }

  /** A phase with nothing to do in this run. */
  skip(name: PhaseName): void {
    this.records.push({ name, status: 'skipped', durationMs: 0 });
  }

  /** A step finished (inside a phase that goes on with others). */
  done(step: PlanStep): void {
    this.set(step, { status: 'done' });
  }

  /** A step the plan meant to run that the run could not (a dry run without an engine). */
  skipped(step: PlanStep, reason: string): void {
    this.set(step, { status: 'skipped', reason });
  }

  private outcomeOf(step: PlanStep): StepOutcome | undefined {
    return this.outcomes[this.indexOf(step)];
  }

  private set(step: PlanStep, outcome: Omit<StepOutcome, 'id'>): void {
    const i = this.indexOf(step);
    if (i >= 0) this.outcomes[i] = { id: step.id, ...outcome };
  }

  private indexOf(step: PlanStep): number {
    return this.plan?.steps.indexOf(step) ?? -1;
  }
}
