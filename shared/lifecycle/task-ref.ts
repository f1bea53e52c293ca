/** How workflows and agents name a task: its cluster and id, never its contents. */
export interface TaskRef {
  cluster: string;
  taskId: string;
}

export const launchExecutionName = (ref: TaskRef) => ref.taskId;
export const stopExecutionName = (ref: TaskRef) => `${ref.taskId}-stop`;
