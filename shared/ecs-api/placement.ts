import { type Json, oneOf, optObjectList, optString, reqString } from '../domain/fields';
import type { PlacementConstraint } from '../domain/service';
import { type PlacementStrategy, compilePlacement } from '../scheduler/placement';

/** ECS's limits on one RunTask, CreateService or UpdateService. */
export const MAX_PLACEMENT_STRATEGIES = 5;
export const MAX_PLACEMENT_CONSTRAINTS = 10;

export interface PlacementRequest {
  strategies: PlacementStrategy[];
  constraints: PlacementConstraint[];
}

/**
 * Reads `placementStrategy` and `placementConstraints` as RunTask, CreateService and
 * UpdateService take them, and checks them as placement will use them (fields, expressions), so a
 * request placement could not honour is refused before anything is written.
 */
export function readPlacement(body: Json): PlacementRequest {
  const strategies = optObjectList(body, 'placementStrategy', (s, path): PlacementStrategy => {
    const type = oneOf(reqString(s, 'type', `${path}.type`), ['random', 'spread', 'binpack'] as const, `${path}.type`);
    const field = optString(s, 'field', `${path}.field`, 255);
    return field === undefined || type === 'random' ? { type } : { type, field };
  }, 'placementStrategy', MAX_PLACEMENT_STRATEGIES) ?? [];
  const constraints = optObjectList(body, 'placementConstraints', (c, path): PlacementConstraint => {
    const type = oneOf(reqString(c, 'type', `${path}.type`), ['distinctInstance', 'memberOf'] as const, `${path}.type`);
    const expression = optString(c, 'expression', `${path}.expression`, 2000);
    return expression === undefined ? { type } : { type, expression };
  }, 'placementConstraints', MAX_PLACEMENT_CONSTRAINTS) ?? [];
  // Compiled here only to be judged: the same compilation placement runs, so what passes here places.
  compilePlacement({ strategies, constraints, group: 'validation' });
  return { strategies, constraints };
}
