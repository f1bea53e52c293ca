import { EcsError } from '../../shared/domain/errors';

/** Errors every AWS JSON service shares live in the protocol layer; the slices' own are here. */
export { ValidationException } from '../../shared/aws-protocol/errors';

/** A signed caller whose key may not call this operation (a host key asking to write). */
export class AccessDeniedException extends EcsError {
  constructor(operation: string) {
    super(`The caller is not authorized to perform: ${operation}`);
    this.name = 'AccessDeniedException';
  }
}
