import type { Json } from '../../../shared/domain/fields';
import type { Caller, Operation } from '../../../shared/aws-protocol/operation';
import type { LogsContext } from './context';
import { filterLogEvents } from './filter-log-events';
import { getLogEvents } from './get-log-events';
import { createLogGroup, deleteLogGroup, describeLogGroups } from './groups';
import { putLogEvents } from './put-log-events';
import { createLogStream, describeLogStreams } from './streams';

/** CloudWatch Logs' JSON 1.1 target prefix. */
export const LOGS_TARGET_PREFIX = 'Logs_20140328.';

const LOGS_OPERATIONS = {
  CreateLogGroup: createLogGroup,
  CreateLogStream: createLogStream,
  PutLogEvents: putLogEvents,
  GetLogEvents: getLogEvents,
  FilterLogEvents: filterLogEvents,
  DescribeLogGroups: describeLogGroups,
  DescribeLogStreams: describeLogStreams,
  DeleteLogGroup: deleteLogGroup,
} as const satisfies Record<string, (c: LogsContext, body: Json) => Promise<object>>;

/**
 * The slice's operations in the shape the JSON API handler serves, each called only once
 * `authorize` lets the caller make it.
 */
export function logsOperations(
  context: LogsContext,
  authorize: (operation: string, body: Json, caller: Caller) => Promise<void> = async () => {},
): Record<string, Operation> {
  return Object.fromEntries(
    Object.entries(LOGS_OPERATIONS).map(([name, op]) => [name, async (_b, body, caller) => {
      await authorize(name, body, caller);
      return op(context, body);
    }] as [string, Operation]),
  );
}
