import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The ECS operation names README.md lists between `<!-- ecs-operations:NAME -->` and its closing marker (`served`, `refused`). */
export function readmeOperations(name: 'served' | 'refused'): string[] {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const m = new RegExp(`<!-- ecs-operations:${name} -->\\n([\\s\\S]*?)\\n<!-- /ecs-operations:${name} -->`).exec(readme);
  if (!m) throw new Error(`README.md has no ecs-operations:${name} list`);
  return m[1].split(/[\s,.]+/).filter((s) => s !== '');
}
