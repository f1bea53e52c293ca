import { type SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { TaskCallbacks } from '../../batch/task-callbacks';
import { isSpentToken } from './sfn-workflow-engine';

/** Step Functions' limits on SendTaskFailure's members. */
const MAX_ERROR_CHARS = 256;
const MAX_CAUSE_CHARS = 32_768;

/** Users' state machines' tokens, answered through the SFN API; a spent token is not an error. */
export class SfnTaskCallbacks implements TaskCallbacks {
  constructor(private readonly sfn: SFNClient) {}

  private async send(command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand): Promise<void> {
    try {
      await this.sfn.send(command as SendTaskSuccessCommand);
    } catch (e) {
      if (!isSpentToken(e)) throw e;
    }
  }

  success(taskToken: string, output: object): Promise<void> {
    return this.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  failure(taskToken: string, error: string, cause: string): Promise<void> {
    return this.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, MAX_ERROR_CHARS), cause: cause.slice(0, MAX_CAUSE_CHARS) }));
  }

  heartbeat(taskToken: string): Promise<void> {
    return this.send(new SendTaskHeartbeatCommand({ taskToken }));
  }
}
