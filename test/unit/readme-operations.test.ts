import { describe, expect, it } from '@jest/globals';
import { OPERATIONS } from '../../shared/ecs-api/operations';
import { loadEcsModel } from '../support/ecs-model';
import { readmeOperations } from '../support/readme-operations';

// test/integration/ecs-responses.test.ts sends every listed operation through the API's dispatch.
describe('README', () => {
  it('lists exactly the ECS operations Berth serves, in order', () => {
    expect(readmeOperations('served')).toEqual(Object.keys(OPERATIONS).sort());
  });

  it('lists as refused exactly the operations of the ECS model Berth does not serve', () => {
    const refused = Object.keys(loadEcsModel().operations).filter((o) => !Object.hasOwn(OPERATIONS, o)).sort();
    expect(readmeOperations('refused')).toEqual(refused);
  });
});
