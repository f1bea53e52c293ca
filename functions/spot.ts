import type { EventBridgeEvent } from 'aws-lambda';
import { handleSpotInterruption } from '../shared/capacity/interruption';
import { ResourceNotFoundException } from '../shared/domain/errors';
import { berthFromEnvironment } from '../shared/environment';

/** EventBridge's "EC2 Spot Instance Interruption Warning": drain the host, stop its tasks, replace it. */
export const handler = async (event: EventBridgeEvent<'EC2 Spot Instance Interruption Warning', { 'instance-id': string }>) => {
  try {
    return await handleSpotInterruption(berthFromEnvironment(), event.detail['instance-id']);
  } catch (e) {
    // The rule sees every spot instance in the account; those that are not Berth's are not ours.
    if (e instanceof ResourceNotFoundException) return { stopped: [] };
    throw e;
  }
};
