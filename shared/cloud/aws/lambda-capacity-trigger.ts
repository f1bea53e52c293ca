import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CapacityTrigger } from '../../context';

/**
 * Asks for a capacity cycle by invoking the capacity Lambda asynchronously. A burst of tasks
 * that find no room asks at most once per `minIntervalMs` from one Lambda container; the
 * function runs with reserved concurrency 1, so cycles never overlap.
 */
export class LambdaCapacityTrigger implements CapacityTrigger {
  private last = 0;

  constructor(
    private readonly functionName: string,
    private readonly lambda = new LambdaClient({}),
    private readonly minIntervalMs = 1000,
  ) {}

  trigger(): void {
    const now = Date.now();
    if (now - this.last < this.minIntervalMs) return;
    this.last = now;
    // The schedule runs the cycle every minute anyway: a lost trigger only delays it.
    this.lambda
      .send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from('{"source":"placement"}') }))
      .catch((e) => console.error(JSON.stringify({ level: 'warn', message: 'capacity trigger failed', error: String(e) })));
  }
}
