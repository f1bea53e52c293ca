import { berthFromEnvironment } from '../shared/environment';
import { type LifecycleSteps, lifecycleSteps } from '../shared/lifecycle/steps';

/** The Task states of the lifecycle state machines, one Lambda each. */
const step = <K extends keyof LifecycleSteps>(name: K): LifecycleSteps[K] =>
  ((input: any) => (lifecycleSteps(berthFromEnvironment())[name] as (i: unknown) => Promise<unknown>)(input)) as LifecycleSteps[K];

export const place = step('place');
export const start = step('start');
export const awaitRunning = step('awaitRunning');
export const requestStop = step('requestStop');
export const awaitStopped = step('awaitStopped');
export const markStopped = step('markStopped');
export const release = step('release');
export const recordUsage = step('recordUsage');
