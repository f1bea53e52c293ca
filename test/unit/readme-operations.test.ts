import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS } from '../../shared/ecs-api/operations';
import { loadEcsModel } from '../support/ecs-model';

/** The operation names the README lists between `<!-- ecs-operations:NAME -->` and its closing marker. */
function listed(readme: string, name: string): string[] {
  const m = new RegExp(`<!-- ecs-operations:${name} -->\\n([\\s\\S]*?)\\n<!-- /ecs-operations:${name} -->`).exec(readme);
  if (!m) throw new Error(`README.md has no ecs-operations:${name} list`);
  return m[1].split(/[\s,.]+/).filter((s) => s !== '');
}

describe('README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  it('lists exactly the ECS operations Berth serves, in order', () => {
    expect(listed(readme, 'served')).toEqual(Object.keys(OPERATIONS).sort());
  });

  it('lists as refused exactly the operations of the ECS model Berth does not serve', () => {
    const refused = Object.keys(loadEcsModel().operations).filter((o) => !Object.hasOwn(OPERATIONS, o)).sort();
    expect(listed(readme, 'refused')).toEqual(refused);
  });
});
