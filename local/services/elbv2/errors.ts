import { EcsError } from '../../../shared/domain/errors';

/**
 * ELBv2's errors, named by their query-protocol codes (the service model's `error.code`), which
 * is what the SDK and the CLI map back to their exception names.
 */
class Elbv2Error extends EcsError {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
  }
}

export const loadBalancerNotFound = () => new Elbv2Error('LoadBalancerNotFound', 'One or more load balancers not found');
export const targetGroupNotFound = () => new Elbv2Error('TargetGroupNotFound', 'One or more target groups not found');
export const listenerNotFound = () => new Elbv2Error('ListenerNotFound', 'One or more listeners not found');
export const duplicateLoadBalancerName = (name: string) =>
  new Elbv2Error('DuplicateLoadBalancerName', `A load balancer with the same name '${name}' exists, but with different settings`);
export const duplicateTargetGroupName = (name: string) =>
  new Elbv2Error('DuplicateTargetGroupName', `A target group with the same name '${name}' exists, but with different settings`);
export const duplicateListener = () => new Elbv2Error('DuplicateListener', 'A listener already exists on this port for this load balancer');
export const resourceInUse = (message: string) => new Elbv2Error('ResourceInUse', message);
export const invalidTarget = (message: string) => new Elbv2Error('InvalidTarget', message);
export const invalidConfigurationRequest = (message: string) => new Elbv2Error('InvalidConfigurationRequest', message);
export const unsupportedProtocol = (protocol: string) => new Elbv2Error('UnsupportedProtocol', `The protocol '${protocol}' is not supported`);
export const invalidLoadBalancerAction = (message: string) => new Elbv2Error('InvalidLoadBalancerAction', message);

/** The query protocol's input validation error, in AWS's words. */
export const validationError = (member: string, constraint: string, value?: unknown) =>
  new Elbv2Error('ValidationError', `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value).slice(0, 64)}'`} at '${member[0].toLowerCase()}${member.slice(1)}' failed to satisfy constraint: ${constraint}`);
