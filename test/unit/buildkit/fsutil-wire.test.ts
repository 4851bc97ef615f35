/**
 * Our encoding of fsutil's wire messages against golden bytes written by fsutil's own Go types
 * (test/fixtures/fsutil-wire), and Go's os.FileMode of real files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dataPacketSize,
  errorPacket,
  goFileMode,
  statPacketSize,
  typeOnlyPacket,
  writeDataPacket,
  writeStatPacket,
  type StatFields,
} from '../../../src/buildkit/fsutil-wire.js';
import { decodePacket } from '../../../src/buildkit/file-sender.js';
import { makeTree, removeTree } from '../support/tree.js';

const FIXTURES = path.resolve('test/fixtures/fsutil-wire');

interface Golden {
  name: string;
  hex: string;
  fields: {
    type: string;
    id: number;
    data?: string;
    stat?: {
      path: string;
      mode: number;
      uid: number;
      gid: number;
      size: string;
      modTime: string;
      linkname: string;
      devmajor: string;
      devminor: string;
    };
  };
}
const golden: Golden[] = JSON.parse(readFileSync(path.join(FIXTURES, 'golden.json'), 'utf8'));

function encode(g: Golden): Buffer {
  const f = g.fields;
  if (f.type === 'PACKET_STAT' && f.stat) {
    const s: StatFields = {
      path: f.stat.path,
      mode: f.stat.mode,
      uid: f.stat.uid,
      gid: f.stat.gid,
      size: BigInt(f.stat.size),
      modTime: BigInt(f.stat.modTime),
      linkname: f.stat.linkname,
      devmajor: BigInt(f.stat.devmajor),
      devminor: BigInt(f.stat.devminor),
    };
    const out = Buffer.alloc(statPacketSize(s));
    expect(writeStatPacket(out, 0, s)).toBe(out.length);
    return out;
  }
  if (f.type === 'PACKET_DATA') {
    const data = f.data === undefined ? undefined : Buffer.from(f.data, 'latin1');
    const out = Buffer.alloc(dataPacketSize(f.id, data?.length ?? 0));
    expect(writeDataPacket(out, 0, f.id, data)).toBe(out.length);
    return out;
  }
  if (f.type === 'PACKET_ERR') return errorPacket(f.data ?? '');
  return typeOnlyPacket({ PACKET_STAT: 0, PACKET_FIN: 3 }[f.type as 'PACKET_STAT' | 'PACKET_FIN']);
}

describe("fsutil's wire encoding, byte for byte", () => {
  it.each(golden.filter((g) => g.fields.type !== 'PACKET_REQ').map((g) => [g.name, g] as const))('%s', (_name, g) => {
    expect(encode(g).toString('hex')).toBe(g.hex);
  });

  it.each(
    golden.filter((g) => ['PACKET_REQ', 'PACKET_FIN', 'PACKET_ERR'].includes(g.fields.type)).map((g) => [g.name, g] as const),
  )('decodes %s as BuildKit sends it', (_name, g) => {
    const p = decodePacket(Buffer.from(g.hex, 'hex'));
    expect(p).toMatchObject({ type: { PACKET_REQ: 1, PACKET_FIN: 3, PACKET_ERR: 4 }[g.fields.type], id: g.fields.id });
    if (g.fields.data) expect(p.data).toBe(g.fields.data);
  });

  it('golden.json is what fsutil writes (regenerated with Go where it is installed)', () => {
    const go = spawnSync('go', ['version']);
    if (go.status !== 0) {
      if (process.env.CI) throw new Error('Go is required under CI to check the fsutil golden bytes');
      return;
    }
    const fresh = execFileSync('go', ['run', '.'], { cwd: path.join(FIXTURES, 'gen'), encoding: 'utf8', timeout: 240_000 });
    expect(JSON.parse(fresh)).toEqual(golden);
  }, 300_000);
});

describe("Go's os.FileMode of an lstat (what fsutil puts in Stat.mode)", () => {
  const root = makeTree(['plain', 'setuid', 'setgid', 'sticky/', 'dir/', 'link -> plain']);
  afterAll(() => removeTree(root));
  const mode = (p: string) => goFileMode(lstatSync(p, { bigint: true }));

  it('keeps the permission bits and puts the type and special bits where Go has them', () => {
    chmodSync(path.join(root, 'plain'), 0o640);
    chmodSync(path.join(root, 'setuid'), 0o4755);
    chmodSync(path.join(root, 'setgid'), 0o2750);
    chmodSync(path.join(root, 'sticky'), 0o1777);
    chmodSync(path.join(root, 'dir'), 0o755);
    expect(mode(path.join(root, 'plain'))).toBe(0o640);
    expect(mode(path.join(root, 'setuid'))).toBe(2 ** 23 + 0o755); // os.ModeSetuid
    expect(mode(path.join(root, 'setgid'))).toBe(2 ** 22 + 0o750); // os.ModeSetgid
    expect(mode(path.join(root, 'sticky'))).toBe(2 ** 31 + 2 ** 20 + 0o777); // ModeDir | ModeSticky
    expect(mode(path.join(root, 'dir'))).toBe(2 ** 31 + 0o755);
    expect(mode(path.join(root, 'link'))).toBe(2 ** 27 + 0o777); // ModeSymlink
    expect(mode('/dev/null')).toBe(2 ** 26 + 2 ** 21 + 0o666); // ModeDevice | ModeCharDevice
  });
});
