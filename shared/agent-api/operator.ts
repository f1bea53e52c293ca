import { z } from 'zod';
import { issueAccessKey } from '../auth/access-keys';
import { AccessDeniedException } from '../auth/errors';
import { hostId } from '../agent-wire/requests';
import type { Operation } from '../aws-protocol/operation';
import { getCostReport } from '../billing/cost';
import { DIMENSIONS, type Dimension, isDimension } from '../billing/usage';
import { handleSpotInterruption } from '../capacity/interruption';
import { ResourceNotFoundException } from '../domain/errors';
import { parseRequest } from './parse';

/**
 * Operator calls (`X-Amz-Target: BerthOperator.*` on `POST /operator`): those AWS makes by itself
 * through EventBridge, made by hand locally; and the people's access keys (`npm run keys`).
 */
export { OPERATOR_TARGET_PREFIX } from '../agent-wire/constants';

export const sendSpotInterruptionRequest = z.strictObject({ hostId });
export const createAccessKeyRequest = z.strictObject({ principal: z.enum(['user', 'operator']).default('user') });
export const revokeAccessKeyRequest = z.strictObject({ accessKeyId: z.string().regex(/^[A-Za-z0-9]{1,128}$/, 'expected an access key id') });

/** Only an operator's key may act as AWS does: a user's key is denied before its body is read. */
const operatorOnly = (name: string, run: Operation): Operation => (b, body, caller) => {
  if (caller.principal?.principal !== 'operator') throw new AccessDeniedException(caller.principal?.accessKeyId ?? 'anonymous', `berth:${name}`);
  return run(b, body, caller);
};

const SendSpotInterruption = operatorOnly('SendSpotInterruption', async (b, body) =>
  handleSpotInterruption(b, parseRequest(sendSpotInterruptionRequest, body).hostId));

/** A new key for a person: the secret is in this answer and nowhere else in the clear. */
const CreateAccessKey = operatorOnly('CreateAccessKey', async (b, body) => {
  const { principal } = parseRequest(createAccessKeyRequest, body);
  return { accessKey: { ...(await issueAccessKey(b, principal)), principal, status: 'Active' } };
});

const ListAccessKeys = operatorOnly('ListAccessKeys', async (b) => ({ accessKeys: await b.store.accessKeys.listPeople() }));

/** Only a person's key: a host's is revoked when its host is written off, a task's expires. */
const RevokeAccessKey = operatorOnly('RevokeAccessKey', async (b, body) => {
  const { accessKeyId } = parseRequest(revokeAccessKeyRequest, body);
  const key = await b.store.accessKeys.get(accessKeyId);
  if (key?.principal !== 'user' && key?.principal !== 'operator') throw new ResourceNotFoundException(`No user or operator access key ${accessKeyId}.`);
  await b.store.accessKeys.revoke(accessKeyId);
  return { accessKey: { accessKeyId, principal: key.principal, status: 'Inactive' } };
});

export const getCostReportRequest = z.strictObject({
  since: z.string().max(32).optional(),
  from: z.string().max(64).optional(),
  to: z.string().max(64).optional(),
  groupBy: z.array(z.string().max(256).refine(isDimension, `expected one of ${DIMENSIONS.join(', ')}, or tag:KEY`)).max(8).optional(),
  bucketSeconds: z.number().int().positive().optional(),
});

/** The meter's report: what `npm run cost` asks for. */
const GetCostReport = operatorOnly('GetCostReport', async (b, body) => {
  const q = parseRequest(getCostReportRequest, body);
  return getCostReport(b, { ...q, groupBy: q.groupBy as Dimension[] | undefined });
});

export const OPERATOR_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  SendSpotInterruption, CreateAccessKey, ListAccessKeys, RevokeAccessKey, GetCostReport,
});
