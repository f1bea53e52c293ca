import { createApiHandler } from '../shared/ecs-api/handler';
import { berthFromEnvironment } from '../shared/environment';

/** The ECS API behind API Gateway's `POST /`. */
export const handler = createApiHandler(berthFromEnvironment);
