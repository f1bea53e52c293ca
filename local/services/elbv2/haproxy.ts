import {
  backendHead, backendName, checkOptions, processSections, serverName, serviceConnectSections,
} from '../../../shared/haproxy/config';
import type { Elbv2State, HealthCheckSettings, TargetGroupRecord } from './store';

/**
 * The local load balancer's configuration for its HAProxy (shared/haproxy/process.ts, one
 * process for the whole local mode). Listeners and target groups are its frontends and backends,
 * written into its configuration (a change reloads it without dropping connections); targets come
 * and go through its runtime API (`add server`, `set server ... state drain`, `del server`) and
 * are written into the configuration too, so a reload keeps them. Service Connect's endpoints are
 * written as an EC2 host's proxy writes them (shared/haproxy/config.ts).
 */

export { backendName, checkOptions, serverName } from '../../../shared/haproxy/config';
export const frontendName = (listenerArn: string) => `listener-${listenerArn.split('/').pop()}`;

/** ELBv2's success codes (`200`, `200-299`, `200,202`) as HAProxy's status regex. */
export function statusRegex(httpCode: string): string {
  const codes = new Set<number>();
  for (const part of httpCode.split(',')) {
    const [from, to] = part.trim().split('-').map(Number);
    for (let c = from; c <= (to ?? from); c++) codes.add(c);
  }
  return `^(${[...codes].join('|')})$`;
}

/**
 * The check's timeout: the group's own, never shortened with the interval. A target that answers
 * within HealthCheckTimeoutSeconds is healthy on AWS; shortened (even to a second, its floor
 * before), a busy machine's slow answers failed a rolling deployment's old targets in CI.
 */
function checkTimeoutMs(hc: HealthCheckSettings): number {
  return hc.timeoutSeconds * 1000;
}

/** The targets HAProxy still serves: none past its deregistration delay. */
const served = (tg: TargetGroupRecord, now: number) => tg.targets.filter((t) => t.drainingUntil === undefined || t.drainingUntil > now);

function backend(tg: TargetGroupRecord, now: number, timeScale: number): string[] {
  const hc = tg.healthCheck;
  const lines = backendHead(tg.arn);
  if (hc.enabled) {
    lines.push('  option httpchk', `  http-check send meth GET uri ${hc.path}`, `  http-check expect rstatus ${statusRegex(hc.httpCode)}`,
      `  timeout check ${checkTimeoutMs(hc)}ms`);
  }
  for (const t of served(tg, now)) {
    const drain = t.drainingUntil !== undefined ? ' weight 0' : '';
    lines.push(`  server ${serverName(t)} ${t.id}:${t.port} ${checkOptions(hc, timeScale)}${drain}`);
  }
  return lines;
}

/** The whole configuration for a state: one frontend per listener, one backend per target group. */
export function renderConfig(state: Elbv2State, socketPath: string, now: number, timeScale = 1): string {
  const lines = processSections(socketPath);
  for (const l of state.listeners) {
    lines.push(`frontend ${frontendName(l.arn)}`, `  bind 127.0.0.1:${l.port}`, `  default_backend ${backendName(l.targetGroupArn)}`);
  }
  // A Service Connect endpoint relays TCP, whatever the protocol; its check is a connect.
  const connect = new Map(state.targetGroups.filter((tg) => tg.serviceConnect).map((tg) => [tg.arn, serviceConnectSections({
    targetGroupArn: tg.arn, proxyPort: tg.serviceConnect!.proxyPort,
    servers: served(tg, now).map((t) => ({ id: t.id, port: t.port, draining: t.drainingUntil !== undefined })),
  }, timeScale)]));
  for (const s of connect.values()) lines.push(...s.frontend);
  for (const tg of state.targetGroups) lines.push(...(connect.get(tg.arn)?.backend ?? backend(tg, now, timeScale)));
  return `${lines.join('\n')}\n`;
}
