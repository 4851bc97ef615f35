/**
 * What inspectEngine makes of the engine's version and of DOCKER_BUILDKIT, read as the docker CLI
 * reads it (cli/command/cli.go BuildKitEnabled: Go's strconv.ParseBool, an error otherwise).
 */
import { describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { buildkitWanted, inspectEngine } from '../../../src/engine/engine.js';
import { ActionError } from '../../../src/errors.js';

const engineAt = (ApiVersion: string, Os = 'linux') =>
  ({ version: () => Promise.resolve({ Version: '20.10.24', ApiVersion, Os }) }) as unknown as Docker;

describe('DOCKER_BUILDKIT', () => {
  // strconv.ParseBool's spellings (Go src/strconv/atob.go).
  it.each(['1', 't', 'T', 'true', 'TRUE', 'True'])('%s asks for BuildKit', (v) => {
    expect(buildkitWanted({ DOCKER_BUILDKIT: v })).toBe(true);
  });
  it.each(['0', 'f', 'F', 'false', 'FALSE', 'False'])('%s asks for the classic builder', (v) => {
    expect(buildkitWanted({ DOCKER_BUILDKIT: v })).toBe(false);
  });
  it('unset or empty leaves the choice to the action', () => {
    expect(buildkitWanted({})).toBeUndefined();
    expect(buildkitWanted({ DOCKER_BUILDKIT: '' })).toBeUndefined();
  });
  it.each(['yes', 'on', 'tRuE', ' 1', '2'])('%j is refused, as the CLI refuses it, with the fix', (v) => {
    const e = (() => {
      try {
        buildkitWanted({ DOCKER_BUILDKIT: v });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ActionError);
    expect((e as ActionError).message).toBe(`DOCKER_BUILDKIT=${v} is not a boolean`);
    expect((e as ActionError).fix).toContain('DOCKER_BUILDKIT to 1');
  });
});

describe('inspectEngine', () => {
  it('uses BuildKit on a Linux engine with API 1.39 or later', async () => {
    expect(await inspectEngine(engineAt('1.41'), {})).toMatchObject({ buildkit: true });
    expect((await inspectEngine(engineAt('1.41'), {})).classicBecause).toBeUndefined();
    expect(await inspectEngine(engineAt('1.41'), { DOCKER_BUILDKIT: '1' })).toMatchObject({ buildkit: true });
  });
  it('uses the classic builder when DOCKER_BUILDKIT=0, and says so', async () => {
    expect(await inspectEngine(engineAt('1.41'), { DOCKER_BUILDKIT: '0' })).toMatchObject({
      buildkit: false,
      classicBecause: 'DOCKER_BUILDKIT',
    });
  });
  it('uses the classic builder on an engine without BuildKit, whatever DOCKER_BUILDKIT says', async () => {
    for (const env of [{}, { DOCKER_BUILDKIT: '1' }]) {
      expect(await inspectEngine(engineAt('1.38'), env)).toMatchObject({ buildkit: false, classicBecause: 'no-buildkit' });
      expect(await inspectEngine(engineAt('1.41', 'windows'), env)).toMatchObject({
        buildkit: false,
        classicBecause: 'no-buildkit',
      });
    }
  });
  it('refuses a DOCKER_BUILDKIT that is not a boolean before asking the engine', async () => {
    const never = { version: () => Promise.reject(new Error('asked')) } as unknown as Docker;
    await expect(inspectEngine(never, { DOCKER_BUILDKIT: 'yes' })).rejects.toThrow('DOCKER_BUILDKIT=yes is not a boolean');
  });
});
