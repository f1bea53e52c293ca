import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The Debian packages the local mode needs, checked and installed by `npm start` itself, so a
 * fresh machine with Node alone gets to a running Berth with one command.
 */

export type Log = (message: string) => void;

/** How to tell a package is there without asking dpkg: what it puts on the machine. */
export type Probe =
  | { command: string }
  | { file: string }
  /** A statically linked executable: a dynamic one of the same path (another package) does not do. */
  | { staticBinary: string };

export interface LocalPackage {
  /** The apt package. */
  name: string;
  /** What the local mode uses it for, said when it is missing. */
  why: string;
  probe: Probe;
}

/** Everything the local mode needs from apt. Whatever a new part of the local mode needs goes here. */
export const LOCAL_PACKAGES: readonly LocalPackage[] = [
  { name: 'podman', why: 'runs the containers', probe: { command: 'podman' } },
  { name: 'runc', why: "podman's runtime here (crun fails on hybrid cgroups)", probe: { command: 'runc' } },
  { name: 'netavark', why: "each task's network", probe: { file: '/usr/lib/podman/netavark' } },
  { name: 'iptables', why: 'keeping task networks apart', probe: { command: 'iptables' } },
  { name: 'busybox-static', why: 'the rootfs of localhost/busybox:latest', probe: { staticBinary: '/bin/busybox' } },
  { name: 'haproxy', why: "the local ELBv2's load balancer", probe: { command: 'haproxy' } },
];

/** The machine, as far as installing packages goes; tests replace it. */
export interface PackageHost {
  isPresent(probe: Probe): boolean;
  /** Runs a command to completion; rejects when it fails. */
  run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<unknown>;
  isRoot: boolean;
  hasApt: boolean;
}

const names = (packages: readonly LocalPackage[]) => packages.map((p) => p.name).join(' ');

/** The packages whose probe finds nothing. */
export const missingPackages = (host: Pick<PackageHost, 'isPresent'>, packages: readonly LocalPackage[] = LOCAL_PACKAGES): LocalPackage[] =>
  packages.filter((p) => !host.isPresent(p.probe));

/** The command that installs `packages`, as this user would have to type it. */
export function installCommand(packages: readonly LocalPackage[], isRoot: boolean): string {
  const sudo = isRoot ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y ${names(packages)}`;
}

/**
 * Installs what is missing of `packages` when it may (root, with apt-get), saying what it does;
 * otherwise fails with the command to run.
 */
export async function ensureLocalPackages(
  log: Log,
  host: PackageHost = thisMachine(),
  packages: readonly LocalPackage[] = LOCAL_PACKAGES,
  /** Who needs them, as the messages say it. */
  neededBy = 'the local mode',
): Promise<void> {
  log(`checking the packages ${neededBy} needs: ${packages.map((p) => p.name).join(', ')}`);
  const missing = missingPackages(host, packages);
  if (missing.length === 0) {
    log('all of them are installed');
    return;
  }
  for (const p of missing) log(`missing: ${p.name}: ${p.why}`);
  if (!host.isRoot || !host.hasApt) {
    throw new Error(`${neededBy} needs ${names(missing)}; install ${missing.length > 1 ? 'them' : 'it'} with: ${installCommand(missing, host.isRoot)}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log('running apt-get update');
  await host.run('apt-get', ['update'], env);
  log(`running apt-get install -y ${names(missing)}`);
  await host.run('apt-get', ['install', '-y', ...missing.map((p) => p.name)], env);
  const still = missingPackages(host, missing);
  if (still.length > 0) {
    throw new Error(`apt-get install -y ${names(missing)} ran, but ${names(still)} still cannot be found (${still.map((p) => describeProbe(p.probe)).join(', ')})`);
  }
  log(`installed ${names(missing)}`);
}

const describeProbe = (probe: Probe): string =>
  'command' in probe ? `${probe.command} on PATH` : 'file' in probe ? probe.file : `a static ${probe.staticBinary}`;

/** This machine: probes look at the file system, commands run for real. */
export function thisMachine(): PackageHost {
  return {
    isPresent: (probe) => {
      if ('command' in probe) return findExecutable(probe.command) !== undefined;
      if ('file' in probe) return existsSync(probe.file);
      return existsSync(probe.staticBinary) && isStaticElf(probe.staticBinary);
    },
    run: (file, args, env) => new Promise((resolve, reject) => {
      execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`, { cause: error }));
        else resolve(stdout);
      });
    }),
    isRoot: process.getuid?.() === 0,
    hasApt: findExecutable('apt-get') !== undefined,
  };
}

// runc lives in /usr/sbin on Debian, which a non-root PATH often lacks; podman finds it there anyway.
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A dynamically linked busybox (Debian's `busybox` package) would not run in an empty rootfs. */
export function isStaticElf(path: string): boolean {
  const PT_INTERP = 3;
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.toString('latin1', 0, 4) !== '\x7fELF') return false;
    const is64 = header[4] === 2;
    const le = header[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? header.readBigUInt64LE(0x20) : header.readBigUInt64BE(0x20)) : u32(header, 0x1c);
    const phentsize = u16(header, is64 ? 0x36 : 0x2a);
    const phnum = u16(header, is64 ? 0x38 : 0x2c);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === PT_INTERP) return false;
    return true;
  } finally {
    closeSync(fd);
  }
}
