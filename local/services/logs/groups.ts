import type { Json } from '../../../shared/domain/fields';
import { type LogsContext, decodeListToken, encodeListToken, groupArn } from './context';
import { groupExists, groupNotFound, invalid } from './errors';
import { optGroupName, optInt, optString, optToken, reqGroupName } from './fields';

const DESCRIBE_LIMIT = { min: 1, max: 50 } as const;

export async function createLogGroup(c: LogsContext, body: Json): Promise<object> {
  const name = reqGroupName(body);
  if (body.kmsKeyId !== undefined) optString(body, 'kmsKeyId', 256);
  if (!(await c.store.createGroup(name, c.now()))) throw groupExists();
  return {};
}

export async function deleteLogGroup(c: LogsContext, body: Json): Promise<object> {
  const deleted = await c.store.deleteGroup(reqGroupName(body));
  if (!deleted) throw groupNotFound();
  c.background(c.store.purgeGroup(deleted.groupId));
  return {};
}

export async function describeLogGroups(c: LogsContext, body: Json): Promise<object> {
  const prefix = optGroupName(body, 'logGroupNamePrefix');
  if (prefix !== undefined && body.logGroupNamePattern !== undefined) {
    throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
  }
  const pattern = optString(body, 'logGroupNamePattern', 512);
  const limit = optInt(body, 'limit', DESCRIBE_LIMIT) ?? DESCRIBE_LIMIT.max;
  const token = decodeListToken(optToken(body), (v): v is { after: string } => typeof v?.after === 'string');
  const groups = [];
  let startAfter = token?.after;
  let more = true;
  // A name pattern filters after the Query, so a page is filled from as many Queries as it takes.
  while (groups.length < limit && more) {
    const page = await c.store.listGroups(prefix, limit - groups.length, startAfter);
    groups.push(...page.groups.filter((g) => pattern === undefined || g.logGroupName.includes(pattern)));
    startAfter = page.lastName;
    more = page.lastName !== undefined;
  }
  const last = groups[groups.length - 1];
  return {
    logGroups: groups.map((g) => ({
      logGroupName: g.logGroupName,
      creationTime: g.creationTime,
      metricFilterCount: 0,
      arn: `${groupArn(c.partition, g.logGroupName)}:*`,
      storedBytes: g.storedBytes,
    })),
    nextToken: more && last ? encodeListToken({ after: last.logGroupName }) : undefined,
  };
}
