import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeySealError } from '../../shared/auth/key-sealer';
import { SEALING_KEY_FILE, Sealer, loadOrCreateSealer } from '../../shared/cloud/local/sealer';

describe('Sealer', () => {
  const sealer = new Sealer(randomBytes(32));
  const plain = Buffer.from('correct horse battery staple');

  it('opens what it sealed, and the sealed form does not hold the value', () => {
    const sealed = sealer.seal(plain, 'ctx');
    expect(sealer.open(sealed, 'ctx').equals(plain)).toBe(true);
    expect(Buffer.from(sealed, 'base64').includes(plain)).toBe(false);
    expect(sealed).not.toContain(plain.toString('base64'));
  });

  it.each([
    ['another context', (s: string) => sealer.open(s, 'other')],
    ['another key', (s: string) => new Sealer(randomBytes(32)).open(s, 'ctx')],
    ['a flipped bit', (s: string) => {
      const raw = Buffer.from(s, 'base64');
      raw[raw.length - 1] ^= 1;
      return sealer.open(raw.toString('base64'), 'ctx');
    }],
  ])('refuses to open under %s', (_what, open) => {
    const sealed = sealer.seal(plain, 'ctx');
    // A KeySealError, which the slices answer with a 4xx; the cause is the cipher's own refusal.
    let thrown: unknown;
    try {
      open(sealed);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(KeySealError);
    expect(String((thrown as Error).cause)).toMatch(/unable to authenticate data/);
  });

  it('keeps one key file of mode 0600 across starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sealer-'));
    const sealed = loadOrCreateSealer(dir).seal(plain, 'ctx');
    const key = readFileSync(join(dir, SEALING_KEY_FILE));
    expect(loadOrCreateSealer(dir).open(sealed, 'ctx').equals(plain)).toBe(true);
    expect(readFileSync(join(dir, SEALING_KEY_FILE)).equals(key)).toBe(true);
    expect(statSync(join(dir, SEALING_KEY_FILE)).mode & 0o777).toBe(0o600);
  });
});
