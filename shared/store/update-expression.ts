/**
 * Builds an UpdateExpression with every attribute aliased, so no field name ever collides with
 * one of DynamoDB's reserved words (status, name, cluster, ...).
 */
export class UpdateExpression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private readonly deletes: string[] = [];
  private n = 0;

  name(attribute: string): string {
    const alias = `#a${this.n++}`;
    this.names[alias] = attribute;
    return alias;
  }

  value(v: unknown): string {
    const alias = `:v${this.n++}`;
    this.values[alias] = v;
    return alias;
  }

  /** SET each defined field. */
  set(fields: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) this.sets.push(`${this.name(k)} = ${this.value(v)}`);
    }
    return this;
  }

  /** SET each defined field unless it already has a value: first writer wins. */
  setOnce(fields: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const a = this.name(k);
      this.sets.push(`${a} = if_not_exists(${a}, ${this.value(v)})`);
    }
    return this;
  }

  add(attribute: string, delta: number): this {
    const a = this.name(attribute);
    this.sets.push(`${a} = ${a} + ${this.value(delta)}`);
    return this;
  }

  raw(clause: string): this {
    this.sets.push(clause);
    return this;
  }

  /** ADD the set's members to a set attribute (made if absent). */
  addToSet(attribute: string, members: Set<string>): this {
    this.adds.push(`${this.name(attribute)} ${this.value(members)}`);
    return this;
  }

  /** DELETE the set's members from a set attribute (gone once empty). */
  deleteFromSet(attribute: string, members: Set<string>): this {
    this.deletes.push(`${this.name(attribute)} ${this.value(members)}`);
    return this;
  }

  remove(path: string): this {
    this.removes.push(path);
    return this;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.sets.length) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length) parts.push(`REMOVE ${this.removes.join(', ')}`);
    if (this.adds.length) parts.push(`ADD ${this.adds.join(', ')}`);
    if (this.deletes.length) parts.push(`DELETE ${this.deletes.join(', ')}`);
    return parts.join(' ');
  }
}
