import { LOCAL_PACKAGES, type PackageHost, type Probe, ensureLocalPackages, missingPackages, thisMachine } from '../../local/packages';
import { TEST_PACKAGES } from '../support/test-packages';

/** A machine of probes that answer from a set, and an apt-get that adds to it. */
function fakeMachine(present: Iterable<string>, o: { isRoot?: boolean; hasApt?: boolean; aptInstalls?: boolean } = {}) {
  const installed = new Set(present);
  const calls: string[] = [];
  const byProbe = new Map(LOCAL_PACKAGES.map((p) => [JSON.stringify(p.probe), p.name]));
  const host: PackageHost = {
    isPresent: (probe: Probe) => installed.has(byProbe.get(JSON.stringify(probe))!),
    run: async (file, args, env) => {
      calls.push([file, ...args].join(' '));
      expect(env.DEBIAN_FRONTEND).toBe('noninteractive');
      if (args[0] === 'install' && o.aptInstalls !== false) for (const name of args.slice(2)) installed.add(name);
    },
    isRoot: o.isRoot ?? true,
    hasApt: o.hasApt ?? true,
  };
  return { host, calls, installed };
}

const ALL = LOCAL_PACKAGES.map((p) => p.name);

describe('local packages', () => {
  it('lists everything the local mode needs from apt', () => {
    expect(ALL).toEqual(expect.arrayContaining(['podman', 'runc', 'netavark', 'iptables', 'busybox-static', 'haproxy']));
  });

  describe('ensureLocalPackages', () => {
    it('installs only what is missing, and says so', async () => {
      const { host, calls, installed } = fakeMachine(['podman', 'runc', 'haproxy']);
      const lines: string[] = [];

      await ensureLocalPackages((l) => lines.push(l), host);

      expect(calls).toEqual(['apt-get update', 'apt-get install -y netavark iptables busybox-static']);
      expect([...installed].sort()).toEqual([...ALL].sort());
      expect(lines).toEqual([
        `checking the packages the local mode needs: ${ALL.join(', ')}`,
        expect.stringMatching(/^missing: netavark/),
        expect.stringMatching(/^missing: iptables/),
        expect.stringMatching(/^missing: busybox-static/),
        'running apt-get update',
        'running apt-get install -y netavark iptables busybox-static',
        'installed netavark iptables busybox-static',
      ]);
    });

    it('installs busybox-static on a machine that has podman and runc (what a new user hit)', async () => {
      const { host, calls } = fakeMachine(['podman', 'runc', 'netavark', 'iptables', 'haproxy']);
      await ensureLocalPackages(() => {}, host);
      expect(calls).toEqual(['apt-get update', 'apt-get install -y busybox-static']);
    });

    it('runs nothing when everything is there', async () => {
      const { host, calls } = fakeMachine(ALL);
      const lines: string[] = [];
      await ensureLocalPackages((l) => lines.push(l), host);
      expect(calls).toEqual([]);
      expect(lines).toContain('all of them are installed');
    });

    it.each([
      ['not root', { isRoot: false }, 'sudo apt-get update && sudo apt-get install -y iptables busybox-static'],
      ['root without apt-get', { hasApt: false }, 'apt-get update && apt-get install -y iptables busybox-static'],
    ])('says what to run when it may not install (%s)', async (_, o, command) => {
      const { host, calls } = fakeMachine(['podman', 'runc', 'netavark'], o);
      await expect(ensureLocalPackages(() => {}, host)).rejects.toThrow(`install them with: ${command}`);
      expect(calls).toEqual([]);
    });

    it('says who needs the packages, when told', async () => {
      const { host } = fakeMachine(['podman'], { isRoot: false });
      const lines: string[] = [];
      await expect(ensureLocalPackages((l) => lines.push(l), host, LOCAL_PACKAGES, 'the test suite')).rejects.toThrow(/^the test suite needs runc netavark/);
      expect(lines[0]).toMatch(/^checking the packages the test suite needs: podman, runc/);
    });

    it('fails, naming the package, when apt-get ran but the package is still not found', async () => {
      const { host } = fakeMachine(['podman', 'runc', 'netavark', 'iptables', 'haproxy'], { aptInstalls: false });
      await expect(ensureLocalPackages(() => {}, host)).rejects.toThrow(/busybox-static still cannot be found \(a static \/bin\/busybox\)/);
    });

    it('passes apt-get failures on', async () => {
      const { host } = fakeMachine([]);
      host.run = async () => {
        throw new Error('apt-get update failed: no network');
      };
      await expect(ensureLocalPackages(() => {}, host)).rejects.toThrow('no network');
    });
  });

  describe('thisMachine', () => {
    it('finds every package installed here, as the test run installs them', () => {
      expect(missingPackages(thisMachine(), TEST_PACKAGES)).toEqual([]);
    });

    it.each<[Probe]>([[{ command: 'berth-no-such-command' }], [{ file: '/berth/no/such/file' }], [{ staticBinary: '/usr/bin/env' }]])(
      'does not take %j for installed',
      (probe) => {
        expect(thisMachine().isPresent(probe)).toBe(false);
      },
    );
  });
});
