import { EcsError } from '../domain/errors';

/**
 * EventBridge Scheduler's errors, as its REST-JSON protocol carries them: the type in the
 * `x-amzn-errortype` header, `{"Message": ...}` in the body, and each type's own status.
 */
/** The one ValidationException of the AWS APIs Berth serves (400). */
export { ValidationException } from '../aws-protocol/errors';

export class ConflictException extends EcsError {
  override readonly statusCode = 409;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictException';
  }
}

export class ResourceNotFoundException extends EcsError {
  override readonly statusCode = 404;
  constructor(message: string) {
    super(message);
    this.name = 'ResourceNotFoundException';
  }
}
