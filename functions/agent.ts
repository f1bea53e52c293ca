import { createAgentApiHandler } from '../shared/agent-api/handler';
import { ownRegionOnly } from '../shared/auth/regions';
import { berthFromEnvironment } from '../shared/environment';

/** The agent API behind API Gateway's `POST /agent`: hosts register, heartbeat, poll and report. */
export const handler = createAgentApiHandler(ownRegionOnly(berthFromEnvironment));
