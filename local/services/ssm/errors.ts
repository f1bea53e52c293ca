import { EcsError } from '../../../shared/domain/errors';

/** Parameter Store's error types, as the SSM service model names them. */
export class ParameterNotFound extends EcsError {
  constructor(name: string) {
    super(`Parameter ${name} not found.`);
    this.name = 'ParameterNotFound';
  }
}

export class ParameterAlreadyExists extends EcsError {
  constructor() {
    super('The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    this.name = 'ParameterAlreadyExists';
  }
}

export class ParameterVersionNotFound extends EcsError {
  constructor(name: string, selector: string) {
    super(`Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`);
    this.name = 'ParameterVersionNotFound';
  }
}

export class TooManyUpdates extends EcsError {
  constructor() {
    super('There are concurrent updates for a resource that supports one update at a time.');
    this.name = 'TooManyUpdates';
  }
}

/** A SecureString that does not open under the sealing key: SSM's answer when KMS cannot decrypt it. */
export class InvalidKeyId extends EcsError {
  constructor(name: string) {
    super(`The value of parameter ${name} cannot be decrypted with its key.`);
    this.name = 'InvalidKeyId';
  }
}
