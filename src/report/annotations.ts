/**
 * Failures as GitHub annotations: placed on the file and line when the error knows them (a bad
 * `image:` line, a Dockerfile instruction), else titled with the input at fault, so the
 * annotation on the run page says where to look before anyone opens the log.
 */
import { ActionError, InputErrors, describeError } from '../errors.js';

/** The properties `@actions/core`'s `error(message, properties)` takes (structurally identical). */
export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

export interface Annotation {
  readonly message: string;
  readonly properties: AnnotationProperties;
}

const ACTION = 'convox-image-deploy';

/**
 * One annotation per problem: each input problem of an `InputErrors` gets its own, so every bad
 * input is marked; any other thrown value gets one, untitled by place.
 */
export function annotationsFor(error: unknown): Annotation[] {
  if (error instanceof InputErrors && error.problems.length > 0) return error.problems.map(annotationFor);
  if (error instanceof ActionError) return [annotationFor(error)];
  return [{ message: describeError(error), properties: { title: `${ACTION} failed` } }];
}

/** The annotation for one ActionError. */
export function annotationFor(error: ActionError): Annotation {
  const { place } = error;
  const properties: AnnotationProperties = {};
  const file = place.file ? normaliseFile(place.file) : undefined;
  if (file) {
    properties.file = file;
    const line = positive(place.line);
    // GitHub only places a column on a known line.
    if (line !== undefined) {
      properties.startLine = line;
      const column = positive(place.column);
      if (column !== undefined) properties.startColumn = column;
    }
  }
  properties.title = titleFor(error);
  return { message: error.describe(), properties };
}

function titleFor(error: ActionError): string {
  const { input, phase } = error.place;
  if (input) return `${ACTION}: input '${input}'`;
  if (phase) return `${ACTION} failed in phase ${phase}`;
  return `${ACTION} failed`;
}

/** Annotations want a path relative to the repository root, with forward slashes. */
function normaliseFile(file: string): string | undefined {
  const path = file
    .trim()
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '');
  return path === '' || path === '.' ? undefined : path;
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && Number.isInteger(n) && n >= 1 ? n : undefined;
}
