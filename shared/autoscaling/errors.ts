import { EcsError } from '../domain/errors';
import { ECS_DESIRED_COUNT, ECS_NAMESPACE } from './types';

/** Application Auto Scaling's errors, in its words; ValidationException is the protocol layer's. */
export { ValidationException } from '../aws-protocol/errors';

const about = (resourceId: string) => `service namespace: ${ECS_NAMESPACE}, resource ID: ${resourceId}, scalable dimension: ${ECS_DESIRED_COUNT}`;

export class ObjectNotFoundException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectNotFoundException';
  }

  static target(resourceId: string): ObjectNotFoundException {
    return new ObjectNotFoundException(`No scalable target registered for ${about(resourceId)}`);
  }

  static policy(resourceId: string, name: string): ObjectNotFoundException {
    return new ObjectNotFoundException(`No scaling policy found for ${about(resourceId)}, policy name: ${name}`);
  }

  static scheduledAction(resourceId: string, name: string): ObjectNotFoundException {
    return new ObjectNotFoundException(`No scheduled action found for ${about(resourceId)}, scheduled action name: ${name}`);
  }
}

export class InvalidNextTokenException extends EcsError {
  constructor() {
    super('Invalid token');
    this.name = 'InvalidNextTokenException';
  }
}
