import { EcsError } from '../../../shared/domain/errors';

/**
 * SQS's errors, named by their query-protocol codes (the service model's `error.code`), which is
 * what the SDK and the CLI map back to their exception names.
 */
class SqsError extends EcsError {
  override readonly statusCode: number;
  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = code;
    this.statusCode = statusCode;
  }
}

export const queueDoesNotExist = () => new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
export const queueAlreadyExists = (name: string) =>
  new SqsError('QueueAlreadyExists', `A queue already exists with the same name and a different value for attribute(s) of ${name}.`);
export const invalidAttributeName = (name: string) => new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
export const invalidAttributeValue = (message: string) => new SqsError('InvalidAttributeValue', message);
export const receiptHandleIsInvalid = (handle: string) =>
  new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle.slice(0, 64)}" is not a valid receipt handle.`);
export const invalidParameterValue = (message: string) => new SqsError('InvalidParameterValue', message);
export const missingParameter = (name: string) => new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
export const invalidMessageContents = (message: string) => new SqsError('InvalidMessageContents', message);
