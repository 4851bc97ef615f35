import { describe, expect, it } from 'vitest';
import { ActionError, InputErrors } from '../../../src/errors.js';
import { annotationFor, annotationsFor, type AnnotationProperties } from '../../../src/report/annotations.js';

describe('annotationFor', () => {
  const cases: [string, ActionError, AnnotationProperties][] = [
    [
      'file, line and column',
      new ActionError('image: names another repository', { file: 'convox.yml', line: 4, column: 12, phase: 'manifest' }),
      { file: 'convox.yml', startLine: 4, startColumn: 12, title: 'convox-image-deploy failed in phase manifest' },
    ],
    [
      'file and line',
      new ActionError('unknown instruction: RUNN', { file: 'docker/Dockerfile', line: 7, phase: 'build' }),
      { file: 'docker/Dockerfile', startLine: 7, title: 'convox-image-deploy failed in phase build' },
    ],
    [
      'file only: no column without a line',
      new ActionError('not valid YAML', { file: './convox.yml', column: 3 }),
      { file: 'convox.yml', title: 'convox-image-deploy failed' },
    ],
    [
      'Windows separators and a bad line number',
      new ActionError('bad', { file: '.\\deploy\\convox.yml', line: 0 }),
      { file: 'deploy/convox.yml', title: 'convox-image-deploy failed' },
    ],
    [
      'input only',
      new ActionError('is not a duration', { input: 'timeout' }, 'use e.g. 10m'),
      { title: "convox-image-deploy: input 'timeout'" },
    ],
    [
      'input and file: placed at the file, titled with the input',
      new ActionError('service web not found', { input: 'services', file: 'convox.yml', line: 2 }),
      { file: 'convox.yml', startLine: 2, title: "convox-image-deploy: input 'services'" },
    ],
    [
      'phase only',
      new ActionError('rack timed out', { phase: 'deploy' }),
      { title: 'convox-image-deploy failed in phase deploy' },
    ],
    ['nothing known', new ActionError('odd'), { title: 'convox-image-deploy failed' }],
  ];

  it.each(cases)('%s', (_, error, properties) => {
    expect(annotationFor(error).properties).toEqual(properties);
  });

  it('carries the message with its fix', () => {
    expect(annotationFor(new ActionError('is not a duration', { input: 'timeout' }, 'use e.g. 10m')).message).toBe(
      "input 'timeout': is not a duration\n  Fix: use e.g. 10m",
    );
  });
});

describe('annotationsFor', () => {
  it('marks every input problem separately', () => {
    const error = new InputErrors([
      new ActionError('is required', { input: 'image' }),
      new ActionError('is not a duration', { input: 'timeout' }),
    ]);
    expect(annotationsFor(error)).toEqual([
      { message: "input 'image': is required", properties: { title: "convox-image-deploy: input 'image'" } },
      { message: "input 'timeout': is not a duration", properties: { title: "convox-image-deploy: input 'timeout'" } },
    ]);
  });

  it('titles any other thrown value', () => {
    expect(annotationsFor(new Error('socket hang up'))).toEqual([
      { message: 'socket hang up', properties: { title: 'convox-image-deploy failed' } },
    ]);
    expect(annotationsFor('plain string')).toEqual([
      { message: 'plain string', properties: { title: 'convox-image-deploy failed' } },
    ]);
  });
});
