import type { Berth } from '../context';
import { ResourceNotFoundException } from '../domain/errors';
import { stopTask } from '../lifecycle/stop-task';

export const SPOT_INTERRUPTION_REASON = 'Spot interruption: EC2 is reclaiming the host';

/**
 * EC2's two-minute spot interruption warning for a host: it takes no new task, every task on it
 * is stopped (SIGTERM, then SIGKILL after its stopTimeout) with stopCode SpotInterruption, and a
 * capacity cycle runs at once for the replacement. The emptied host is terminated by the cycle.
 */
export async function handleSpotInterruption(b: Berth, hostId: string): Promise<{ stopped: string[] }> {
  const host = await b.store.hosts.get(hostId);
  if (!host) throw new ResourceNotFoundException(`Host ${hostId} is not in the fleet.`);
  await b.store.hosts.transition(hostId, 'DRAINING', ['ACTIVE', 'LAUNCHING']);
  const stopped: string[] = [];
  for (const [taskId, r] of Object.entries(host.reservations)) {
    const task = await b.store.tasks.get({ cluster: r.cluster, taskId });
    if (!task || task.hostId !== hostId || task.lastStatus === 'STOPPED') continue;
    await stopTask(b, r.cluster, taskId, SPOT_INTERRUPTION_REASON, 'SpotInterruption');
    stopped.push(taskId);
  }
  b.capacity.trigger();
  return { stopped };
}
