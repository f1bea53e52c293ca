import type { Operation } from '../../../shared/aws-protocol/operation';
import type { Json } from '../../../shared/domain/fields';
import { AccessDeniedException } from '../errors';

/** Where SQS's JSON protocol (what the AWS SDK for JavaScript v3 speaks) names its operations. */
export const SQS_TARGET_PREFIX = 'AmazonSQS.';

/** The query protocol's error codes that SQS's JSON protocol names by their shape. */
const JSON_ERROR_NAMES: Readonly<Record<string, string>> = { 'AWS.SimpleQueueService.NonExistentQueue': 'QueueDoesNotExist' };

/** JSON lists as the query protocol sends them: `Name.1`, `Name.2`... parsed to `{ 1: ..., 2: ... }`. */
const LISTS: Readonly<Record<string, string>> = { AttributeNames: 'AttributeName', MessageAttributeNames: 'MessageAttributeName' };
/** JSON maps as `Name.N.Name` / `Name.N.Value` pairs. */
const MAPS: Readonly<Record<string, string>> = { Attributes: 'Attribute', MessageAttributes: 'MessageAttribute' };

const indexed = (items: readonly unknown[]) => Object.fromEntries(items.map((x, i) => [String(i + 1), x]));

/** A JSON request's members in the shape the query parser leaves them, which the operations read. */
function asQuery(body: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(body)) {
    if (LISTS[k] && Array.isArray(v)) out[LISTS[k]] = indexed(v);
    else if (MAPS[k] && v && typeof v === 'object' && !Array.isArray(v)) out[MAPS[k]] = indexed(Object.entries(v).map(([Name, Value]) => ({ Name, Value })));
    else out[k] = v as Json[string];
  }
  return out;
}

/** The name of a host's wake queue ends with `host-` and its id (sqs-host-notifier.ts). */
export const isHostQueueOf = (hostId: string, queueUrl: unknown): boolean =>
  typeof queueUrl === 'string' && queueUrl.endsWith(`host-${hostId.replace(/[^\w-]/g, '_')}`.slice(-80));

/** What a host's own key may do, as the host role may on AWS (serverless.yml): take its own wakes. */
const HOST_OPERATIONS = new Set(['ReceiveMessage', 'DeleteMessage']);

/**
 * The local SQS slice's operations as its JSON protocol calls them: the same operations as the
 * query protocol's, with the members reshaped and the errors named as the JSON protocol names
 * them. A host's key may receive and delete the messages of its own wake queue, nothing else.
 */
export function sqsJsonOperations(operations: Readonly<Record<string, Operation>>): Record<string, Operation> {
  return Object.fromEntries(Object.entries(operations).map(([name, op]) => [name, (async (b, body, caller) => {
    const p = caller?.principal;
    if (p?.principal === 'host' && (!HOST_OPERATIONS.has(name) || !p.hostId || !isHostQueueOf(p.hostId, body.QueueUrl))) throw new AccessDeniedException(`sqs:${name}`);
    try {
      return await op(b, asQuery(body), caller);
    } catch (e) {
      if (e instanceof Error && JSON_ERROR_NAMES[e.name]) e.name = JSON_ERROR_NAMES[e.name];
      throw e;
    }
  }) satisfies Operation]));
}
