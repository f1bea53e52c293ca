import { ClientException } from './errors';
import { type Json, oneOf, optBool, optObject, optStringList } from './fields';

/** The kernel capabilities ECS accepts in linuxParameters.capabilities, as its model lists them. */
export const KERNEL_CAPABILITIES = [
  'ALL', 'AUDIT_CONTROL', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER',
  'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE', 'MKNOD',
  'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID',
  'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE', 'SYS_RAWIO',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
] as const;
export type KernelCapability = (typeof KERNEL_CAPABILITIES)[number];

/** Fargate lets a task add this one capability and no other. */
export const FARGATE_ADDABLE_CAPABILITIES: readonly KernelCapability[] = ['SYS_PTRACE'];

export interface LinuxParameters {
  capabilities?: { add?: KernelCapability[]; drop?: KernelCapability[] };
}

function readCapabilityList(o: Json, key: 'add' | 'drop', field: string): KernelCapability[] | undefined {
  return optStringList(o, key, `${field}.${key}`, KERNEL_CAPABILITIES.length)
    ?.map((c, i) => oneOf(c, KERNEL_CAPABILITIES, `${field}.${key}[${i}]`));
}

/**
 * A container's linuxParameters, of which Berth reads the capabilities; the rest is dropped, as
 * every member the parser does not know. A FARGATE-compatible definition may add SYS_PTRACE only.
 */
export function readLinuxParameters(c: Json, path: string, fargate: boolean): LinuxParameters | undefined {
  const lp = optObject(c, 'linuxParameters', `${path}.linuxParameters`);
  if (!lp) return undefined;
  const field = `${path}.linuxParameters.capabilities`;
  const caps = optObject(lp, 'capabilities', field);
  if (!caps) return {};
  const add = readCapabilityList(caps, 'add', field);
  const drop = readCapabilityList(caps, 'drop', field);
  const refused = fargate ? (add ?? []).filter((a) => !FARGATE_ADDABLE_CAPABILITIES.includes(a)) : [];
  if (refused.length > 0) {
    throw new ClientException(
      `Invalid parameter '${field}.add': tasks using the Fargate launch type only support adding the ` +
      `${FARGATE_ADDABLE_CAPABILITIES.join(', ')} kernel capability, not ${refused.join(', ')}.`,
    );
  }
  const capabilities = { ...(add ? { add } : {}), ...(drop ? { drop } : {}) };
  return { capabilities };
}

/**
 * Berth runs every task as Fargate does, in a namespace of its own: a container never gets the
 * host's privileges, PID or IPC namespace, so a definition that asks for them is refused rather
 * than run with less than it asked.
 */
export function refuseHostPrivileges(body: Json, containers: readonly Json[]): void {
  for (const key of ['pidMode', 'ipcMode'] as const) {
    if (body[key] === 'host') {
      throw new ClientException(`Invalid parameter '${key}': Berth runs tasks as Fargate does, which does not support ${key} 'host'.`);
    }
  }
  containers.forEach((c, i) => {
    const field = `containerDefinitions[${i}].privileged`;
    if (optBool(c, 'privileged', field)) {
      throw new ClientException(`Invalid parameter '${field}': Berth runs tasks as Fargate does, which does not support privileged containers.`);
    }
  });
}
