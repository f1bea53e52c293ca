import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { ServiceTrigger } from '../../context';

/**
 * Wakes a service's reconciler by invoking the services Lambda asynchronously with the service's
 * key. The capacity schedule reconciles every service too, so a lost invoke only delays it.
 */
export class LambdaServiceTrigger implements ServiceTrigger {
  constructor(private readonly functionName: string, private readonly lambda = new LambdaClient({})) {}

  wake(cluster: string, serviceName: string): void {
    this.lambda
      .send(new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ source: 'wake', cluster, serviceName })),
      }))
      .catch((e) => console.error(JSON.stringify({ level: 'warn', message: 'service wake failed', cluster, serviceName, error: String(e) })));
  }
}
