import { z } from 'zod';
import { AccessDeniedException } from '../auth/errors';
import { hostId } from '../agent-wire/requests';
import type { Operation } from '../aws-protocol/operation';
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

export const OPERATOR_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({ SendSpotInterruption });
