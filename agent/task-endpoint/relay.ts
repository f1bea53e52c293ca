import { TASK_ENDPOINT_PORT } from './server';

/**
 * The pause container's command: it holds the task's network namespace (sleep), and relays the
 * task's loopback port TASK_ENDPOINT_PORT to the same port on its network's gateway, where the
 * agent serves the task (server.ts). Loopback because AWS SDKs take container credentials over
 * plain http only from a loopback address; the agent sees the task's own address as the source.
 * Busybox's sh, ip, sed and nc (the default pause image's); without them the namespace is held
 * all the same, only the endpoint is missing.
 */
export const RELAY_SCRIPT = [
  `gw=$(ip route 2>/dev/null | sed -n 's/^default via \\([0-9.]*\\).*/\\1/p')`,
  `[ -n "$gw" ] && nc -ll -p ${TASK_ENDPOINT_PORT} -e nc "$gw" ${TASK_ENDPOINT_PORT} &`,
  'exec sleep infinity',
].join('\n');
