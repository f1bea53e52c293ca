import { reqString } from '../domain/fields';
import type { Operation } from '../ecs-api/operation';
import { handleSpotInterruption } from '../capacity/interruption';

/**
 * Operator calls that AWS makes by itself through EventBridge, made by hand locally
 * (`X-Amz-Target: BerthOperator.*` on `POST /operator`).
 */
export const OPERATOR_TARGET_PREFIX = 'BerthOperator.';

const SendSpotInterruption: Operation = async (b, body) => handleSpotInterruption(b, reqString(body, 'hostId'));

export const OPERATOR_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({ SendSpotInterruption });
