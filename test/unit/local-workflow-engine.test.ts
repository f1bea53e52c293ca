import { LocalWorkflowEngine } from '../../shared/cloud/local/local-workflow-engine';
import { WAIT_FOR_TASK_TOKEN } from '../../shared/workflows/definitions';
import { deferred } from '../support/deferred';

/** One state that waits for its task token, whose function answers only when the test says so. */
const WAITING = {
  StartAt: 'Wait',
  States: {
    Wait: {
      Type: 'Task', Resource: WAIT_FOR_TASK_TOKEN, End: true,
      Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:hold', Payload: {} },
    },
  },
};

describe('LocalWorkflowEngine', () => {
  it('closes while a waiting state\'s function is still being called without an unhandled rejection', async () => {
    // Prepare: the state's function has been called and has not answered yet
    const calling = deferred();
    const answer = deferred();
    const engine = new LocalWorkflowEngine({
      hold: async () => {
        calling.resolve();
        await answer.promise;
      },
    }, { definitions: { launch: WAITING } as never });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    try {
      await engine.start('launch', 'x', {});
      await calling.promise;

      // Act: the engine closes (ending the wait) and Node looks for rejections nobody handled,
      // which it does once the microtasks of a turn have run; then the function answers.
      const closing = engine.close();
      await new Promise((resolve) => setImmediate(resolve));
      answer.resolve();
      await closing;

      // Assess
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
