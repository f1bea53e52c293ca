/**
 * The ECS error tree. Every client fault is one of these; the api middleware turns each into
 * `{ "__type": name, "message": message }` with its status. Nothing else builds HTTP errors.
 */
export class EcsError extends Error {
  readonly statusCode: number = 400;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EcsError';
  }
}

/** ECS's catch-all for a bad request: an invalid definition, an unrunnable revision. */
export class ClientException extends EcsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClientException';
  }
}

export class InvalidParameterException extends EcsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidParameterException';
  }
}

export class ClusterNotFoundException extends EcsError {
  constructor(readonly cluster: string) {
    super('Cluster not found.');
    this.name = 'ClusterNotFoundException';
  }
}

export class ClusterContainsTasksException extends EcsError {
  constructor(readonly cluster: string) {
    super('The Cluster cannot be deleted while Tasks are active.');
    this.name = 'ClusterContainsTasksException';
  }
}

export class ClusterContainsServicesException extends EcsError {
  constructor(readonly cluster: string) {
    super('The Cluster cannot be deleted while Services are active.');
    this.name = 'ClusterContainsServicesException';
  }
}

export class ServiceNotFoundException extends EcsError {
  constructor(readonly service: string) {
    super('Service not found.');
    this.name = 'ServiceNotFoundException';
  }
}

/** UpdateService and DeleteService on a service that is DRAINING or INACTIVE. */
export class ServiceNotActiveException extends EcsError {
  constructor(readonly service: string) {
    super('Service was not ACTIVE.');
    this.name = 'ServiceNotActiveException';
  }
}

/** RunTask's clientToken reused with other parameters. */
/** PutClusterCapacityProviders removing a provider a service's strategy still names. */
export class ResourceInUseException extends EcsError {
  constructor(message = 'The specified capacity provider is in use and cannot be removed.') {
    super(message);
    this.name = 'ResourceInUseException';
  }
}

export class ConflictException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictException';
  }
}

export class ResourceNotFoundException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceNotFoundException';
  }
}

/** The body was not JSON, or not the JSON object an operation takes. */
export class SerializationException extends EcsError {
  constructor(message: string) {
    super(message);
    this.name = 'SerializationException';
  }
}

export class UnknownOperationException extends EcsError {
  constructor(readonly target: string) {
    super(`Operation is not supported: ${target || '(no X-Amz-Target)'}`);
    this.name = 'UnknownOperationException';
  }
}

export class RequestTooLargeException extends ClientException {
  override readonly statusCode = 413;
  constructor(readonly limitBytes: number) {
    super(`Request body exceeds the ${limitBytes} byte limit.`);
  }
}

/** A fault on our side; never shown with its internals. */
export class ServerException extends EcsError {
  override readonly statusCode = 500;
  constructor(options?: { cause?: unknown }) {
    super('Internal server error.', options);
    this.name = 'ServerException';
  }
}

/** A lost optimistic-concurrency race; callers re-read and re-plan. */
export class ConcurrentUpdateError extends Error {
  constructor(readonly key: string, options?: { cause?: unknown }) {
    super(`Concurrent update on ${key}`, options);
    this.name = 'ConcurrentUpdateError';
  }
}

/** A Service Connect namespace (Cloud Map) that does not exist, as ECS names it. */
export class NamespaceNotFoundException extends EcsError {
  constructor(message = 'The specified namespace wasn\'t found.') {
    super(message);
    this.name = 'NamespaceNotFoundException';
  }
}
