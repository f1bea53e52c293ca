import { z } from 'zod';
import { AccessDeniedException } from '../auth/errors';
import { hostId } from '../agent-wire/requests';
import type { Operation } from '../aws-protocol/operation';
import { getCostReport } from '../billing/cost';
import { DIMENSIONS, type Dimension, isDimension } from '../billing/usage';
import { handleSpotInterruption } from '../capacity/interruption';
import { parseRequest } from './parse';

/**
 * Operator calls that AWS makes by itself through EventBridge, made by hand locally
 * (`X-Amz-Target: BerthOperator.*` on `POST /operator`).
 */
export const OPERATOR_TARGET_PREFIX = 'BerthOperator.';

export const sendSpotInterruptionRequest = z.strictObject({ hostId });

/** Only an operator's key may act as AWS does: a user's key is denied before its body is read. */
const operatorOnly = (name: string, run: Operation): Operation => (b, body, caller) => {
  if (caller.principal?.principal !== 'operator') throw new AccessDeniedException(caller.principal?.accessKeyId ?? 'anonymous', `berth:${name}`);
  return run(b, body, caller);
};

const SendSpotInterruption = operatorOnly('SendSpotInterruption', async (b, body) =>
  handleSpotInterruption(b, parseRequest(sendSpotInterruptionRequest, body).hostId));

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

export const OPERATOR_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({ SendSpotInterruption, GetCostReport });
