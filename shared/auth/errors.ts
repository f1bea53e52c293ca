import { EcsError } from '../domain/errors';

/** No Authorization header at all. */
export class MissingAuthenticationTokenException extends EcsError {
  override readonly statusCode = 403;
  constructor() {
    super('Missing Authentication Token');
    this.name = 'MissingAuthenticationTokenException';
  }
}

/** An Authorization header that is not a well-formed SigV4 one. */
export class IncompleteSignature extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteSignature';
  }
}

/** An access key id nobody issued (or one revoked). */
export class UnrecognizedClientException extends EcsError {
  constructor() {
    super('The security token included in the request is invalid.');
    this.name = 'UnrecognizedClientException';
  }
}

/** A key past its expiry (a task role's short-lived key). */
export class ExpiredTokenException extends EcsError {
  constructor() {
    super('The security token included in the request is expired');
    this.name = 'ExpiredTokenException';
  }
}

/** A signature that does not match, or a request signed too long ago. */
export class InvalidSignatureException extends EcsError {
  constructor(message = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.') {
    super(message);
    this.name = 'InvalidSignatureException';
  }
}

/** A valid signature by a key that may not make this call (a user's key on the operator API). */
export class AccessDeniedException extends EcsError {
  override readonly statusCode = 403;
  constructor(accessKeyId: string, action: string) {
    super(`User: ${accessKeyId} is not authorized to perform: ${action}`);
    this.name = 'AccessDeniedException';
  }
}

/** An EC2 instance identity document that is forged, foreign, stale, or not the caller's. */
export class InstanceIdentityRefusedException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedException';
  }
}
