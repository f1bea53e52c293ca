import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ec2FleetFromEnvironment } from '../shared/capacity/environment';
import { teardownHosts } from '../shared/cloud/aws/stack-teardown';

/** The stack's HostsTeardown custom resource: on the stack's deletion, its hosts go first. */
export const handler = (event: CloudFormationCustomResourceEvent) => teardownHosts(event, ec2FleetFromEnvironment());
