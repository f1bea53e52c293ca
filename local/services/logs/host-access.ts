import { awslogsTarget } from '../../../agent/logs/task-logs';
import type { Berth } from '../../../shared/context';
import type { Json } from '../../../shared/domain/fields';
import type { Caller } from '../../../shared/aws-protocol/operation';
import { assignmentsFor } from '../../../shared/lifecycle/assignments';
import { DEFAULT_METRICS_LOG_GROUP } from '../../../shared/metrics/catalog';
import { AccessDeniedException } from '../errors';
import { reqGroupName, reqStreamName } from './fields';

/** What a host's key may do: write its tasks' output. It reads and deletes nothing. */
const HOST_WRITES = ['CreateLogGroup', 'CreateLogStream', 'PutLogEvents'] as const;
type HostWrite = (typeof HOST_WRITES)[number];

/** How long a host's allowed groups and streams are trusted before they are read again. */
const CACHE_MS = 5_000;

interface Allowed {
  /** Stream names by group. */
  streams: Map<string, Set<string>>;
  at: number;
}

/**
 * The Logs slice's policy for host keys, as an instance role's would be on AWS: a host may
 * create and write only the awslogs groups and streams of the tasks bound to it (and its own
 * metrics stream, `agent/HOST_ID` in `/berth/metrics`), and may read or delete nothing. Users'
 * and operators' keys may do anything. `berth` is the slice's region; a host of any region the
 * local mode runs (`hostRegions`, its own included) may write there what its tasks' awslogs-region
 * sends there, as an instance role's logs permissions reach every region.
 */
export function hostLogAccess(berth: Berth, hostRegions: () => Promise<Berth[]> = async () => [berth]) {
  const region = berth.partition.region;
  const cache = new Map<string, Allowed>();

  async function allowedFor(hostId: string, fresh: boolean): Promise<Allowed> {
    const hit = cache.get(hostId);
    if (hit && !fresh && berth.now() - hit.at < CACHE_MS) return hit;
    const streams = new Map<string, Set<string>>();
    // A host is of one region: the one whose store holds it.
    const homes = await Promise.all((await hostRegions()).map(async (b) => ({ b, tasks: await assignmentsFor(b, hostId) })));
    if (await berth.store.hosts.get(hostId)) streams.set(DEFAULT_METRICS_LOG_GROUP, new Set([`agent/${hostId}`]));
    for (const { b, task } of homes.flatMap(({ b, tasks }) => tasks.map((task) => ({ b, task })))) {
      for (const def of task.containers) {
        let target;
        try {
          target = awslogsTarget(task.taskId, def);
        } catch {
          continue; // a configuration the agent refuses: it writes nothing for it
        }
        if (!target || (target.region ?? b.partition.region) !== region) continue;
        if (!streams.has(target.logGroupName)) streams.set(target.logGroupName, new Set());
        streams.get(target.logGroupName)!.add(target.logStreamName);
      }
    }
    const allowed = { streams, at: berth.now() };
    if (cache.size > 10_000) cache.clear();
    cache.set(hostId, allowed);
    return allowed;
  }

  const permits = (allowed: Allowed, operation: HostWrite, group: string, stream?: string) =>
    operation === 'CreateLogGroup' ? allowed.streams.has(group) : allowed.streams.get(group)?.has(stream!) === true;

  /** Throws AccessDeniedException unless the caller may make this call. */
  return async function authorize(operation: string, body: Json, caller: Caller): Promise<void> {
    const key = caller.principal;
    if (key?.principal !== 'host') return;
    const denied = new AccessDeniedException(`logs:${operation}`);
    if (!key.hostId || !(HOST_WRITES as readonly string[]).includes(operation)) throw denied;
    const write = operation as HostWrite;
    const group = reqGroupName(body);
    const stream = write === 'CreateLogGroup' ? undefined : reqStreamName(body);
    // A task placed since the last read is found by reading again before refusing.
    if (permits(await allowedFor(key.hostId, false), write, group, stream)) return;
    if (permits(await allowedFor(key.hostId, true), write, group, stream)) return;
    throw denied;
  };
}
