import { createOperatorApiHandler } from '../shared/agent-api/handler';
import { issueAccessKey } from '../shared/auth/access-keys';
import { ownRegionOnly } from '../shared/auth/regions';
import { berthFromEnvironment } from '../shared/environment';

/** The operator API behind API Gateway's `POST /operator`: people's access keys, and what AWS's events do by hand. */
export const handler = createOperatorApiHandler(ownRegionOnly(berthFromEnvironment));

/**
 * A stack's first operator key, invoked directly (`npm run keys -- bootstrap`), never over HTTP:
 * whoever may invoke this function in the account (the deployer, by IAM) gets one.
 */
export const createOperatorKey = async () => issueAccessKey(berthFromEnvironment(), 'operator');
