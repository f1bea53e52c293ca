import { EcsError } from '../domain/errors';

/**
 * Errors every AWS JSON service shares. Each extends `EcsError`, so the one error middleware
 * shapes them all as `{__type, message}` with their status.
 */
export class ValidationException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}
