import { RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { awsEcs } from '../../support/aws-cli';
import { BUSYBOX, type LocalMode, untilStatus } from '../../support/local-mode';

/**
 * Capacity provider strategies with the AWS CLI v2 and real containers: run-task with
 * `--capacity-provider-strategy` runs FARGATE tasks on the shared fleet's on-demand hosts and
 * shows their provider; with `--launch-type` too it is refused. (The shared fleet has no spot
 * host; the split between markets is covered on dynalite in test/integration/capacity-strategy.)
 */
// One of the suites test/e2e/shared.test.ts runs on its shared local mode.
export function suite(mode: () => LocalMode): void {
describe('Capacity provider strategies', () => {
  let m: LocalMode;
  const family = `e2e-cp-${Date.now()}`;
  beforeAll(async () => {
    m = mode();
    await m.ecs.send(new RegisterTaskDefinitionCommand({
      family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512',
      containerDefinitions: [{ name: 'app', image: BUSYBOX, essential: true, command: ['sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }],
    }));
  });

  it('run-task --capacity-provider-strategy runs FARGATE tasks and shows their provider', async () => {
    // Act
    const r = await awsEcs(m.local.url, [
      'run-task', '--task-definition', family, '--count', '2',
      '--capacity-provider-strategy', 'capacityProvider=FARGATE,base=1,weight=1',
    ]);

    // Assess
    expect(r.code).toBe(0);
    const arns: string[] = r.json.tasks.map((t: { taskArn: string }) => t.taskArn);
    expect(r.json.tasks.map((t: { capacityProviderName?: string }) => t.capacityProviderName)).toEqual(['FARGATE', 'FARGATE']);
    for (const arn of arns) await untilStatus(m.ecs, arn, 'RUNNING');
    const described = await awsEcs(m.local.url, ['describe-tasks', '--tasks', ...arns]);
    expect(described.json.tasks.map((t: { capacityProviderName?: string }) => t.capacityProviderName)).toEqual(['FARGATE', 'FARGATE']);
  });

  it('refuses a launch type with a strategy', async () => {
    const r = await awsEcs(m.local.url, [
      'run-task', '--task-definition', family, '--launch-type', 'FARGATE',
      '--capacity-provider-strategy', 'capacityProvider=FARGATE_SPOT,weight=1',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.errorType).toBe('InvalidParameterException');
    expect(r.stderr).toContain('Specifying both a launch type and capacity provider strategy is not supported');
  });
});
}
