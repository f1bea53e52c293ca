import { KMSClient } from '@aws-sdk/client-kms';
import { DEFAULT_INSTANCE_IDENTITY, type InstanceIdentityConfig, instanceIdentityFromEnvironment } from './auth/instance-identity';
import { Elbv2LoadBalancing } from './cloud/aws/elbv2-load-balancing';
import { PRICE_VARIABLES, pricesOf } from './billing/prices';
import { KmsKeySealer } from './cloud/aws/kms-key-sealer';
import { LambdaCapacityTrigger } from './cloud/aws/lambda-capacity-trigger';
import { LambdaServiceTrigger } from './cloud/aws/lambda-service-trigger';
import { PollingHostNotifier } from './cloud/aws/polling-host-notifier';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnTaskCallbacks } from './cloud/aws/sfn-task-callbacks';
import { SfnWorkflowEngine } from './cloud/aws/sfn-workflow-engine';
import { SqsDeadLetterSink } from './cloud/aws/sqs-dead-letter-sink';
import { EventBridgeScheduleMirror } from './cloud/aws/eventbridge-schedule-mirror';
import { arn, awsRegion, checked, type Environment, flag, logGroupName, readEnvironment, text, wholeNumber } from './config/variables';
import { type Berth, type BerthConfig, DEFAULT_CONFIG } from './context';
import { DEFAULT_METRICS_LOG_GROUP } from './metrics/catalog';
import { createDocumentClient } from './store/client';
import { createStore } from './store';
import { tableNames } from './store/tables';

/** Every variable the Lambda functions read (serverless.yml sets them); the capacity function's own are in capacity/environment.ts. */
export const LAMBDA_VARIABLES = {
  AWS_REGION: awsRegion().required(),
  BERTH_ACCOUNT_ID: text('a 12-digit AWS account id', /^\d{12}$/).required(),
  BERTH_TABLE_PREFIX: text('a DynamoDB table name prefix: letters, digits, dots, dashes or underscores', /^[\w.-]{1,200}$/).required(),
  BERTH_ACCESS_KEYS_KMS_KEY_ARN: arn('kms', 'a KMS key').required(),
  BERTH_LAUNCH_STATE_MACHINE_ARN: arn('states', 'a state machine').required(),
  BERTH_STOP_STATE_MACHINE_ARN: arn('states', 'a state machine').required(),
  BERTH_CAPACITY_FUNCTION_NAME: text('a Lambda function name or ARN', /^[\w:.-]{1,170}$/).required(),
  BERTH_SERVICES_FUNCTION_NAME: text('a Lambda function name or ARN', /^[\w:.-]{1,170}$/).required(),
  BERTH_PLACEMENT_TIMEOUT_SECONDS: wholeNumber(1, 86_400).default(DEFAULT_CONFIG.placementTimeoutSeconds),
  BERTH_PLACEMENT_RETRY_SECONDS: wholeNumber(1, 3_600).default(DEFAULT_CONFIG.placementRetrySeconds),
  BERTH_IMDS_CERTIFICATES: checked<InstanceIdentityConfig>('a JSON object of Region to PEM certificate(s)', instanceIdentityFromEnvironment),
  BERTH_METRICS_LOG_GROUP: logGroupName().default(DEFAULT_METRICS_LOG_GROUP),
  BERTH_ALLOW_HOST_PATHS: flag().default(false),
  // Schedules' timers (EventBridge Scheduler): set on the functions that create and fire them.
  BERTH_SCHEDULER_GROUP: text('a schedule group name', /^[0-9a-zA-Z-_.]{1,64}$/),
  BERTH_SCHEDULER_TARGET_ARN: arn('lambda', 'a Lambda function'),
  BERTH_SCHEDULER_ROLE_ARN: text('an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)', /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/),
  ...PRICE_VARIABLES,
};

export interface LambdaConfig {
  region: string;
  accountId: string;
  tablePrefix: string;
  accessKeysKmsKeyArn: string;
  launchStateMachineArn: string;
  stopStateMachineArn: string;
  capacityFunctionName: string;
  servicesFunctionName: string;
  metricsLogGroup: string;
  berth: BerthConfig;
  /** Where schedules' timers go; absent on functions that make none. */
  scheduler?: { groupName: string; targetArn: string; roleArn: string };
}

/** The Lambda functions' configuration, checked: a bad variable throws a ConfigurationError that names it. */
export function lambdaConfigFromEnvironment(env: Environment): LambdaConfig {
  const v = readEnvironment(LAMBDA_VARIABLES, env);
  return {
    region: v.AWS_REGION,
    accountId: v.BERTH_ACCOUNT_ID,
    tablePrefix: v.BERTH_TABLE_PREFIX,
    accessKeysKmsKeyArn: v.BERTH_ACCESS_KEYS_KMS_KEY_ARN,
    launchStateMachineArn: v.BERTH_LAUNCH_STATE_MACHINE_ARN,
    stopStateMachineArn: v.BERTH_STOP_STATE_MACHINE_ARN,
    capacityFunctionName: v.BERTH_CAPACITY_FUNCTION_NAME,
    servicesFunctionName: v.BERTH_SERVICES_FUNCTION_NAME,
    metricsLogGroup: v.BERTH_METRICS_LOG_GROUP,
    scheduler: v.BERTH_SCHEDULER_GROUP && v.BERTH_SCHEDULER_TARGET_ARN && v.BERTH_SCHEDULER_ROLE_ARN
      ? { groupName: v.BERTH_SCHEDULER_GROUP, targetArn: v.BERTH_SCHEDULER_TARGET_ARN, roleArn: v.BERTH_SCHEDULER_ROLE_ARN }
      : undefined,
    berth: {
      placementTimeoutSeconds: v.BERTH_PLACEMENT_TIMEOUT_SECONDS,
      placementRetrySeconds: v.BERTH_PLACEMENT_RETRY_SECONDS,
      openHostRegistration: false,
      instanceIdentity: v.BERTH_IMDS_CERTIFICATES ?? DEFAULT_INSTANCE_IDENTITY,
      allowHostPaths: v.BERTH_ALLOW_HOST_PATHS,
      prices: pricesOf(v),
    },
  };
}

let config: LambdaConfig | undefined;

/** This function's configuration, read from its environment once. */
export function lambdaConfig(): LambdaConfig {
  config ??= lambdaConfigFromEnvironment(process.env);
  return config;
}

let cached: Berth | undefined;

/** The Berth a deployed Lambda runs with: AWS adapters, configured by serverless.yml's environment. */
export function berthFromEnvironment(): Berth {
  const c = lambdaConfig();
  cached ??= {
    partition: { region: c.region, accountId: c.accountId },
    store: createStore(createDocumentClient(), tableNames(c.tablePrefix), {
      // Access keys' secrets are stored only as KMS ciphertext, under the stack's own key.
      keySealer: new KmsKeySealer({ kms: new KMSClient({}), keyId: c.accessKeysKmsKeyArn }),
    }),
    workflows: new SfnWorkflowEngine({ launch: c.launchStateMachineArn, stop: c.stopStateMachineArn }),
    callbacks: new SfnTaskCallbacks(new SFNClient({})),
    notifier: new PollingHostNotifier(),
    capacity: new LambdaCapacityTrigger(c.capacityFunctionName),
    services: new LambdaServiceTrigger(c.servicesFunctionName),
    loadBalancing: new Elbv2LoadBalancing(),
    config: c.berth,
    now: Date.now,
    scheduleMirror: c.scheduler && new EventBridgeScheduleMirror(c.scheduler),
    deadLetters: new SqsDeadLetterSink(),
  };
  return cached;
}
