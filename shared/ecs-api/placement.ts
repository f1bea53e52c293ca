import { InvalidParameterException } from '../domain/errors';
import { type Json, optObjectList, optString, reqString } from '../domain/fields';
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
function oneOfPlacement<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidParameterException(`Invalid ${what} type: ${value}. Valid values are ${allowed.join(', ')}.`);
  }
  return value as T;
}

function atMost(body: Json, key: string, max: number): void {
  const v = body[key];
  if (Array.isArray(v) && v.length > max) {
    throw new InvalidParameterException(`${key} can have at most ${max} items; ${v.length} were given.`);
  }
}

export function readPlacement(body: Json): PlacementRequest {
  atMost(body, 'placementStrategy', MAX_PLACEMENT_STRATEGIES);
  atMost(body, 'placementConstraints', MAX_PLACEMENT_CONSTRAINTS);
  const strategies = optObjectList(body, 'placementStrategy', (s, path): PlacementStrategy => {
    const type = oneOfPlacement(reqString(s, 'type', `${path}.type`), ['random', 'spread', 'binpack'] as const, 'placement strategy');
    const field = optString(s, 'field', `${path}.field`, 255);
    return field === undefined || type === 'random' ? { type } : { type, field };
  }, 'placementStrategy', MAX_PLACEMENT_STRATEGIES) ?? [];
  const constraints = optObjectList(body, 'placementConstraints', (c, path): PlacementConstraint => {
    const type = oneOfPlacement(reqString(c, 'type', `${path}.type`), ['distinctInstance', 'memberOf'] as const, 'placement constraint');
    const expression = optString(c, 'expression', `${path}.expression`, 2000);
    return expression === undefined ? { type } : { type, expression };
  }, 'placementConstraints', MAX_PLACEMENT_CONSTRAINTS) ?? [];
  // Compiled here only to be judged: the same compilation placement runs, so what passes here places.
  compilePlacement({ strategies, constraints, group: 'validation' });
  return { strategies, constraints };
}
