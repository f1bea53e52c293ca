/**
 * bench:launch's client: a process of its own that sends each timed RunTask and polls
 * DescribeTasks, as a user's CLI or SDK does from outside the local mode. Run in the bench's own
 * process, the client's SDK work (building, signing and parsing every call, every 5 ms) would
 * take turns with the control plane on its one thread, and be counted as the control plane's.
 *
 * Started with the local mode's endpoint and credentials in BERTH_BENCH_CLIENT (JSON); takes
 * LaunchRequest messages over IPC and answers each with a LaunchAnswer.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { type LaunchAnswer, type LaunchRequest, epochNow, runTasks, untilDescribed } from './support/ecs-calls';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { endpoint, credentials } = JSON.parse(process.env.BERTH_BENCH_CLIENT ?? '{}') as { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } };
const ecs = new ECSClient({ endpoint, region: 'us-east-1', maxAttempts: 1, credentials });

async function launch(r: LaunchRequest): Promise<LaunchAnswer> {
  try {
    const sentAt = epochNow();
    const [taskArn] = await runTasks(ecs, r.family, 1);
    const returnedAt = epochNow();
    const seenAt = r.until ? await untilDescribed(ecs, taskArn, r.until, r.timeoutMs, r.pollMs) : undefined;
    return { id: r.id, taskArn, sentAt, returnedAt, ...(seenAt !== undefined ? { seenAt } : {}) };
  } catch (e) {
    return { id: r.id, error: e instanceof Error ? e.message : String(e) };
  }
}

process.on('message', (r: LaunchRequest) => {
  void launch(r).then((answer) => process.send!(answer));
});
// The bench's end (or its death) closes the channel: the client goes with it.
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
