import { EcsError } from '../../shared/domain/errors';

/**
 * Errors every AWS JSON service shares. The slices' own errors extend `EcsError` too, so the one
 * error middleware shapes them all as `{__type, message}` with their status.
 */
export class ValidationException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}

/** A signed caller whose key may not call this operation (a host key asking to write). */
export class AccessDeniedException extends EcsError {
  constructor(operation: string) {
    super(`The caller is not authorized to perform: ${operation}`);
    this.name = 'AccessDeniedException';
  }
}
