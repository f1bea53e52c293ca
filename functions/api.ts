import { createAutoscalingHandler } from '../shared/autoscaling/handler';
import { TARGET_PREFIX as AUTOSCALING_TARGET_PREFIX } from '../shared/autoscaling/operations';
import { byTarget } from '../shared/aws-protocol/dispatch';
import { createApiHandler } from '../shared/ecs-api/handler';
import { ownRegionOnly } from '../shared/auth/regions';
import { berthFromEnvironment } from '../shared/environment';

/** The ECS API behind API Gateway's `POST /`, and Application Auto Scaling's beside it (by X-Amz-Target). */
export const handler = byTarget({ [AUTOSCALING_TARGET_PREFIX]: createAutoscalingHandler(ownRegionOnly(berthFromEnvironment)) }, createApiHandler(ownRegionOnly(berthFromEnvironment)));
