import { USER_PRINCIPALS } from '../auth/access-keys';
import { type ApiHandlerOptions, type BerthFor, createJsonApiHandler } from '../aws-protocol/handler';
import { OPERATIONS, TARGET_PREFIX } from './operations';

/** Application Auto Scaling: JSON 1.1, signed for service `application-autoscaling` by a user's key. */
export const createAutoscalingHandler = (berth: BerthFor, options: ApiHandlerOptions = {}) =>
  createJsonApiHandler(berth, {
    targetPrefix: TARGET_PREFIX,
    operations: OPERATIONS,
    auth: { services: ['application-autoscaling'], principal: USER_PRINCIPALS },
  }, options);
