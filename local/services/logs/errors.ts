import { EcsError, InvalidParameterException, ResourceNotFoundException } from '../../../shared/domain/errors';

/**
 * CloudWatch Logs' error types, as its model names them. They extend the API's error root, so
 * the one error middleware shapes them (`__type`, `message`, 400) like every other refusal.
 */
export class ResourceAlreadyExistsException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceAlreadyExistsException';
  }
}

export const groupNotFound = () => new ResourceNotFoundException('The specified log group does not exist.');
export const streamNotFound = () => new ResourceNotFoundException('The specified log stream does not exist.');
export const groupExists = () => new ResourceAlreadyExistsException('The specified log group already exists');
export const streamExists = () => new ResourceAlreadyExistsException('The specified log stream already exists');

/** AWS's words for a request that breaks the model's constraints. */
export const invalid = (message: string) => new InvalidParameterException(message);

export { InvalidParameterException, ResourceNotFoundException };
