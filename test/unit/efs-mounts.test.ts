import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostEfsMounts, type RunCommand } from '../../agent/efs/host-efs-mounts';
import { LocalEfsMounts } from '../../agent/efs/local-efs-mounts';

const FS = 'fs-0123456789abcdef0';
const AP = 'fsap-0123456789abcdef0';

/** The host's mount and umount, recorded; `fail` makes mount answer with that stderr. */
function recorder(fail?: string) {
  const calls: string[] = [];
  const run: RunCommand = async (file, args) => {
    calls.push([file, ...args].join(' '));
    if (fail && file === 'mount') throw new Error(fail);
  };
  return { calls, run };
}

/** Each test's root directory, removed once the file has run. */
const roots: string[] = [];
const scratchRoot = () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-efs-'));
  roots.push(root);
  return root;
};
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('HostEfsMounts', () => {
  it.each([
    ['the file system\'s root, in the clear', { fileSystemId: FS }, `mount -t efs ${FS}:/ <dir>`],
    ['a rootDirectory', { fileSystemId: FS, rootDirectory: '/app/data' }, `mount -t efs ${FS}:/app/data <dir>`],
    ['TLS on a port', { fileSystemId: FS, transitEncryption: 'ENABLED' as const, transitEncryptionPort: 20049 }, `mount -t efs -o tls,tlsport=20049 ${FS}:/ <dir>`],
    ['an access point', { fileSystemId: FS, transitEncryption: 'ENABLED' as const, authorizationConfig: { accessPointId: AP } }, `mount -t efs -o tls,accesspoint=${AP} ${FS}:/ <dir>`],
  ])('mounts %s with the mount helper on a directory of the task\'s own', async (_, efs, command) => {
    // Prepare
    const root = scratchRoot();
    const { calls, run } = recorder();
    const mounts = new HostEfsMounts(root, run);

    // Act
    await mounts.mount('task-1', 'data', efs);

    // Assess
    const dir = join(root, 'task-1', 'data');
    expect(mounts.pathOf('task-1', 'data')).toBe(dir);
    expect(calls).toEqual([command.replace('<dir>', dir)]);
    expect(existsSync(dir)).toBe(true);
  });

  it('fails a mount with ECS\'s reason and the helper\'s error, leaving no directory', async () => {
    const root = scratchRoot();
    const { run } = recorder('mount.nfs4: Connection timed out\n');
    const mounts = new HostEfsMounts(root, run);

    const e = await mounts.mount('task-1', 'data', { fileSystemId: FS }).catch((x: unknown) => x);

    expect((e as Error).message).toBe('ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: mount.nfs4: Connection timed out');
    expect(existsSync(join(root, 'task-1', 'data'))).toBe(false);
  });

  it('unmounts a task\'s volume and removes its directories', async () => {
    const root = scratchRoot();
    const { calls, run } = recorder();
    const mounts = new HostEfsMounts(root, run);
    await mounts.mount('task-1', 'data', { fileSystemId: FS });

    await mounts.unmount('task-1', 'data');

    expect(calls.at(-1)).toBe(`umount -l ${join(root, 'task-1', 'data')}`);
    expect(existsSync(join(root, 'task-1'))).toBe(false);
  });

  it('sweeps the mounts of tasks no longer kept, and only those', async () => {
    // Prepare
    const root = scratchRoot();
    for (const d of ['gone/a', 'gone/b', 'kept/a']) mkdirSync(join(root, d), { recursive: true });
    const { calls, run } = recorder();

    // Act
    const n = await new HostEfsMounts(root, run).sweep((taskId) => taskId === 'kept');

    // Assess
    expect(n).toBe(2);
    expect(calls.sort()).toEqual([`umount -l ${join(root, 'gone', 'a')}`, `umount -l ${join(root, 'gone', 'b')}`]);
    expect(existsSync(join(root, 'gone'))).toBe(false);
    expect(existsSync(join(root, 'kept', 'a'))).toBe(true);
  });
});

describe('LocalEfsMounts', () => {
  it('stands in for a file system with one directory, whoever names it', async () => {
    // Prepare
    const root = scratchRoot();
    const mounts = new LocalEfsMounts(root);

    // Act
    await mounts.mount('task-1', 'a', { fileSystemId: FS });
    writeFileSync(join(mounts.pathOf('task-1', 'a', { fileSystemId: FS }), 'f'), 'x');
    mkdirSync(join(root, FS, 'sub'));
    await mounts.mount('task-2', 'b', { fileSystemId: FS, rootDirectory: '/sub' });

    // Assess
    expect(mounts.pathOf('task-2', 'b', { fileSystemId: FS })).toBe(join(root, FS));
    expect(mounts.pathOf('task-2', 'b', { fileSystemId: FS, rootDirectory: '/sub' })).toBe(join(root, FS, 'sub'));
    expect(existsSync(join(root, FS, 'f'))).toBe(true);
  });

  it('fails as EFS does when the rootDirectory does not exist', async () => {
    const mounts = new LocalEfsMounts(scratchRoot());

    const e = await mounts.mount('task-1', 'a', { fileSystemId: FS, rootDirectory: '/missing' }).catch((x: unknown) => x);

    expect((e as Error).message).toMatch(/^ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr: .*No such file or directory/);
  });

  it('gives an access point a directory of its own, made on first use', async () => {
    const root = scratchRoot();
    const mounts = new LocalEfsMounts(root);
    const efs = { fileSystemId: FS, transitEncryption: 'ENABLED' as const, authorizationConfig: { accessPointId: AP } };

    await mounts.mount('task-1', 'a', efs);

    expect(mounts.pathOf('task-1', 'a', efs)).toBe(join(root, 'access-points', AP));
    expect(existsSync(join(root, 'access-points', AP))).toBe(true);
  });
});
