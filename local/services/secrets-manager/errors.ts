import { EcsError } from '../../../shared/domain/errors';

/** Secrets Manager's error types, as its service model names them. */
export class ResourceNotFoundException extends EcsError {
  constructor(message = "Secrets Manager can't find the specified secret.") {
    super(message);
    this.name = 'ResourceNotFoundException';
  }
}

export class ResourceExistsException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceExistsException';
  }
}

/** A member's value is not allowed (a recovery window out of range, two values at once). */
export class InvalidParameterException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParameterException';
  }
}

/** The request does not fit the secret's state: most often, the secret is scheduled for deletion. */
export class InvalidRequestException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestException';
  }
}

export class InvalidNextTokenException extends EcsError {
  constructor() {
    super('The NextToken value is invalid.');
    this.name = 'InvalidNextTokenException';
  }
}

export const MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion.";

/** A stored value that does not open under the sealing key (KMS's decrypt failing, on AWS). */
export class DecryptionFailure extends EcsError {
  constructor() {
    super("Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
    this.name = 'DecryptionFailure';
  }
}
