import type { Assignment } from '../shared/agent-wire/responses';
import type { AwsClientConfig } from './aws';
import type { ExecutionRoles } from './identity/execution-roles';
import { EcrLogins, type EcrTokenSource } from './images/ecr-logins';
import { RegistryLogins } from './images/registry-logins';
import { cloudWatchLogSinks } from './logs/cloudwatch-log-sink';
import type { LogSinks } from './logs/task-logs';
import { AwsSecretSource } from './secrets/aws-secret-source';
import type { SecretSource } from './secrets/secret-source';

/** What ECS's task execution role does for a task: read its secrets, log in to its registries, ship its awslogs output. */
export interface ExecutionAccess {
  secrets?: SecretSource;
  logins: RegistryLogins;
  logSinks?: LogSinks;
}

export interface ExecutionAccessOptions {
  /** The agent's AWS clients' configuration: the host's own credentials. None: no secrets, no awslogs. */
  aws?: AwsClientConfig;
  /** On AWS: the task execution roles, assumed from the host's role. None locally, where the host key serves (see below). */
  roles?: ExecutionRoles;
  /** ECR's GetAuthorizationToken for a configuration (on AWS only: the local endpoint serves no ECR). */
  ecrTokens?: (aws: AwsClientConfig) => EcrTokenSource;
  now: () => number;
}

/**
 * Each task's execution access, by the role its definition names: on AWS the role's own
 * credentials (ExecutionRoles), never the host's, so a task gets exactly what its role may read.
 * A task without a role (an EC2 definition, which ECS lets use the instance's role) and every task
 * locally use the host's credentials; locally the control plane lets a host key read only what
 * the tasks it holds name (local/services/task-access.ts). The clients and the cached ECR logins
 * are kept per role and shared by its tasks.
 */
export class ExecutionAccesses {
  private readonly host: ExecutionAccess;
  private readonly byRole = new Map<string, ExecutionAccess>();

  constructor(private readonly o: ExecutionAccessOptions) {
    this.host = this.accessWith(o.aws);
  }

  for(task: Pick<Assignment, 'executionRoleArn'>): ExecutionAccess {
    const { aws, roles } = this.o;
    const role = task.executionRoleArn;
    if (!role || !roles || !aws) return this.host;
    let access = this.byRole.get(role);
    if (!access) {
      access = this.accessWith({
        ...aws,
        credentials: async () => {
          const c = await roles.credentials(role);
          return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
        },
      });
      this.byRole.set(role, access);
    }
    return access;
  }

  private accessWith(aws: AwsClientConfig | undefined): ExecutionAccess {
    const secrets = aws && new AwsSecretSource(aws);
    const ecr = aws && this.o.ecrTokens ? new EcrLogins(this.o.ecrTokens(aws), this.o.now) : undefined;
    return { secrets, logins: new RegistryLogins({ secrets, ecr }), logSinks: aws && cloudWatchLogSinks(aws) };
  }
}
