/** Metrics that cannot be expressed as Embedded Metric Format, which CloudWatch would drop. */
export class EmfValidationError extends Error {
  constructor(message: string, readonly metric?: string) {
    super(message);
    this.name = 'EmfValidationError';
  }
}

/** A sink could not deliver a batch (CloudWatch Logs refused it, the endpoint was away). */
export class MetricsDeliveryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricsDeliveryError';
  }
}
