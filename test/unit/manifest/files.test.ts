import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ActionError } from '../../../src/errors.js';
import { defaultManifestPath, writeFileAtomic } from '../../../src/manifest/index.js';

describe('defaultManifestPath', () => {
  test.each([
    [['convox.yml', 'docker-compose.yml'], 'convox.yml'],
    [['convox.yml'], 'convox.yml'],
    [['docker-compose.yml'], 'docker-compose.yml'],
  ])('with %j present it picks %s', (present, chosen) => {
    expect(defaultManifestPath((p) => present.includes(p))).toBe(chosen);
  });

  test('says so clearly when neither exists', () => {
    let error: unknown;
    try {
      defaultManifestPath(() => false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).message).toBe(
      'no manifest given and neither convox.yml nor docker-compose.yml exists in the workspace',
    );
    expect((error as ActionError).place).toEqual({ input: 'manifest', phase: 'inputs' });
  });
});

describe('writeFileAtomic', () => {
  test('replaces the content, keeps the mode and leaves no temp file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-write-'));
    const file = path.join(dir, 'convox.yml');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o640);
    await writeFileAtomic(file, Buffer.from('new\r\n'));
    expect(readFileSync(file).toString('hex')).toBe(Buffer.from('new\r\n').toString('hex'));
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['convox.yml']);
  });

  test('an executable bit survives too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-write-'));
    const file = path.join(dir, 'm.yml');
    writeFileSync(file, 'x');
    chmodSync(file, 0o755);
    await writeFileAtomic(file, Buffer.from('y'));
    expect(statSync(file).mode & 0o777).toBe(0o755);
  });

  test('a missing directory fails and leaves nothing behind', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'manifest-write-'));
    await expect(writeFileAtomic(path.join(dir, 'nope', 'convox.yml'), Buffer.from('x'))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
