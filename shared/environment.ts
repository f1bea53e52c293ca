import { KMSClient } from '@aws-sdk/client-kms';
import { instanceIdentityFromEnvironment } from './auth/instance-identity';
import { KmsKeySealer } from './cloud/aws/kms-key-sealer';
import { LambdaCapacityTrigger } from './cloud/aws/lambda-capacity-trigger';
import { LambdaServiceTrigger } from './cloud/aws/lambda-service-trigger';
import { PollingHostNotifier } from './cloud/aws/polling-host-notifier';
import { SfnWorkflowEngine } from './cloud/aws/sfn-workflow-engine';
import { type Berth, type BerthConfig, DEFAULT_CONFIG } from './context';
import { createDocumentClient } from './store/client';
import { createStore } from './store';
import { tableNames } from './store/tables';

const number = (name: string, fallback: number) => {
  const v = process.env[name];
  return v === undefined || v === '' ? fallback : Number(v);
};

export function configFromEnvironment(): BerthConfig {
  return {
    placementTimeoutSeconds: number('BERTH_PLACEMENT_TIMEOUT_SECONDS', DEFAULT_CONFIG.placementTimeoutSeconds),
    placementRetrySeconds: number('BERTH_PLACEMENT_RETRY_SECONDS', DEFAULT_CONFIG.placementRetrySeconds),
    openHostRegistration: false,
    instanceIdentity: instanceIdentityFromEnvironment(process.env.BERTH_IMDS_CERTIFICATES),
  };
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`Environment variable ${name} is not set`);
  return v;
}

let cached: Berth | undefined;

/** The Berth a deployed Lambda runs with: AWS adapters, configured by serverless.yml's environment. */
export function berthFromEnvironment(): Berth {
  cached ??= {
    partition: { region: required('AWS_REGION'), accountId: required('BERTH_ACCOUNT_ID') },
    store: createStore(createDocumentClient(), tableNames(required('BERTH_TABLE_PREFIX')), {
      // Access keys' secrets are stored only as KMS ciphertext, under the stack's own key.
      keySealer: new KmsKeySealer({ kms: new KMSClient({}), keyId: required('BERTH_ACCESS_KEYS_KMS_KEY_ARN') }),
    }),
    workflows: new SfnWorkflowEngine({
      launch: required('BERTH_LAUNCH_STATE_MACHINE_ARN'),
      stop: required('BERTH_STOP_STATE_MACHINE_ARN'),
    }),
    notifier: new PollingHostNotifier(),
    capacity: new LambdaCapacityTrigger(required('BERTH_CAPACITY_FUNCTION_NAME')),
    services: new LambdaServiceTrigger(required('BERTH_SERVICES_FUNCTION_NAME')),
    config: configFromEnvironment(),
    now: Date.now,
  };
  return cached;
}
