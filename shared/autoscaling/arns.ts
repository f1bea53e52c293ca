import type { Partition } from '../domain/arns';
import { ECS_NAMESPACE } from './types';

/** The role Application Auto Scaling uses for ECS: its service-linked role. */
export const ecsServiceLinkedRole = (p: Partition): string =>
  `arn:aws:iam::${p.accountId}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService`;

export const scalingPolicyArn = (p: Partition, id: string, resourceId: string, name: string): string =>
  `arn:aws:autoscaling:${p.region}:${p.accountId}:scalingPolicy:${id}:resource/${ECS_NAMESPACE}/${resourceId}:policyName/${name}`;

export const scheduledActionArn = (p: Partition, id: string, resourceId: string, name: string): string =>
  `arn:aws:autoscaling:${p.region}:${p.accountId}:scheduledAction:${id}:resource/${ECS_NAMESPACE}/${resourceId}:scheduledActionName/${name}`;

/** The two alarms a target-tracking policy gets, named as AWS names them. */
export function targetTrackingAlarms(p: Partition, resourceId: string, id: string): { AlarmName: string; AlarmARN: string }[] {
  return ['AlarmHigh', 'AlarmLow'].map((kind) => {
    const name = `TargetTracking-${resourceId}-${kind}-${id}`;
    return { AlarmName: name, AlarmARN: `arn:aws:cloudwatch:${p.region}:${p.accountId}:alarm:${name}` };
  });
}

/** `service/CLUSTER/SERVICE`, the only resource id Berth scales. */
const SERVICE_RESOURCE = /^service\/([a-zA-Z0-9_-]{1,255})\/([a-zA-Z0-9_-]{1,255})$/;

export function parseServiceResourceId(resourceId: string): { cluster: string; serviceName: string } | undefined {
  const m = SERVICE_RESOURCE.exec(resourceId);
  return m ? { cluster: m[1], serviceName: m[2] } : undefined;
}

export const serviceResourceId = (cluster: string, serviceName: string): string => `service/${cluster}/${serviceName}`;
