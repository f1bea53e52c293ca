import { EcsError } from '../../../shared/domain/errors';

/** Step Functions' own errors, as its JSON 1.0 API names them (all 400). */
class StatesError extends EcsError {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const named = (name: string) => class extends StatesError {
  constructor(message: string) {
    super(name, message);
  }
};

export const InvalidDefinition = named('InvalidDefinition');
export const InvalidName = named('InvalidName');
export const InvalidArn = named('InvalidArn');
export const InvalidToken = named('InvalidToken');
export const InvalidExecutionInput = named('InvalidExecutionInput');
export const InvalidOutput = named('InvalidOutput');
export const StateMachineDoesNotExist = named('StateMachineDoesNotExist');
export const StateMachineAlreadyExists = named('StateMachineAlreadyExists');
export const StateMachineTypeNotSupported = named('StateMachineTypeNotSupported');
export const ExecutionDoesNotExist = named('ExecutionDoesNotExist');
export const ExecutionAlreadyExists = named('ExecutionAlreadyExists');
export const TaskDoesNotExist = named('TaskDoesNotExist');
export const MissingRequiredParameter = named('MissingRequiredParameter');
