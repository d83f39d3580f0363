/**
 * Random elements generated from Amber's own OpenAPI spec (`test/fixtures/amber/openapi.yaml`): every value the
 * spec's schema allows is possible (any number, any string, any date and instant, optional fields present,
 * null or missing), nothing the spec forbids. The collector must store or reject each of them alone.
 *
 * Generation follows the spec's JSON Schema subset (`$ref`, `allOf`, `properties`/`required`, `enum`,
 * `nullable`, `type`, `format: date|date-time`, `minimum`/`maximum`); an unknown construct throws, so a
 * spec change cannot silently narrow what is generated.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parse } from 'yaml';
import { amberFixturePath } from '../helpers/amber-fixtures.ts';

export type SpecIntervalSchema = 'ActualInterval' | 'CurrentInterval' | 'ForecastInterval' | 'Usage';

type Schema = Record<string, unknown>;

let schemas: Record<string, Schema> | null = null;

function specSchemas(): Record<string, Schema> {
  schemas ??= (parse(readFileSync(amberFixturePath('openapi.yaml'), 'utf8')) as { components: { schemas: Record<string, Schema> } }).components
    .schemas;
  return schemas;
}

/** Elements valid against `components.schemas[name]`. */
export function specElement(name: SpecIntervalSchema): fc.Arbitrary<Record<string, unknown>> {
  return arbitraryOf(specSchemas()[name]!) as fc.Arbitrary<Record<string, unknown>>;
}

// Instants in the range RFC 3339 can write (years 0000-9999), some with an offset, as the spec allows.
const instant = fc
  .tuple(
    fc.integer({ min: Date.parse('0000-01-01T00:00:00Z'), max: Date.parse('9999-12-31T23:59:59Z') }),
    fc.constantFrom('Z', '+10:00', '-05:30'),
  )
  .map(([ms, offset]) => {
    const shift = offset === 'Z' ? 0 : (offset === '+10:00' ? 10 * 60 : -(5 * 60 + 30)) * 60_000;
    const local = new Date(ms + shift).toISOString().slice(0, 19);
    return `${local}${offset}`;
  })
  .filter((text) => /^\d{4}-/.test(text));
const calendarDate = fc.integer({ min: Date.parse('0000-01-01T00:00:00Z'), max: Date.parse('9999-12-31T00:00:00Z') }).map((ms) =>
  new Date(ms).toISOString().slice(0, 10),
);
// Short text, including what PostgreSQL cannot store (NUL, lone surrogates) and long strings.
const anyString = fc.oneof(
  { weight: 6, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', 'lo\u0000w', '\ud800', 'x\udc00y') },
  { weight: 1, arbitrary: fc.string({ minLength: 190, maxLength: 400 }) },
);

function arbitraryOf(schema: Schema): fc.Arbitrary<unknown> {
  const { nullable, ...rest } = schema;
  const inner = arbitraryOfNonNull(rest);
  return nullable === true ? fc.oneof(inner, fc.constant(null)) : inner;
}

function arbitraryOfNonNull(schema: Schema): fc.Arbitrary<unknown> {
  if (typeof schema['$ref'] === 'string') {
    const name = schema['$ref'].replace('#/components/schemas/', '');
    return arbitraryOf(specSchemas()[name]!);
  }
  if (Array.isArray(schema['allOf'])) return allOf(schema['allOf'] as Schema[]);
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
  const max = typeof schema['maximum'] === 'number' ? schema['maximum'] : undefined;
  switch (schema['type']) {
    case 'object':
      return objectOf(schema);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: min ?? -1e9, max: max ?? 1e9 });
    case 'number':
      return fc.oneof(
        fc.double({ min: min ?? -Number.MAX_VALUE, max: max ?? Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: Math.ceil(min ?? -1e6), max: Math.floor(max ?? 1e6) }),
      );
    case 'string':
      if (schema['format'] === 'date') return calendarDate;
      if (schema['format'] === 'date-time') return instant;
      return anyString;
    default:
      throw new Error(`spec-arbitrary: unsupported schema ${JSON.stringify(schema).slice(0, 200)}`);
  }
}

/** The spec writes each interval as `allOf [BaseInterval, { its own fields }]`: merged into one object. */
function allOf(parts: readonly Schema[]): fc.Arbitrary<unknown> {
  const merged: { properties: Record<string, Schema>; required: string[] } = { properties: {}, required: [] };
  const resolve = (part: Schema): Schema => (typeof part['$ref'] === 'string' ? specSchemas()[part['$ref'].replace('#/components/schemas/', '')]! : part);
  for (const part of parts.map(resolve)) {
    if (Array.isArray(part['allOf'])) throw new Error('spec-arbitrary: nested allOf');
    Object.assign(merged.properties, part['properties'] as Record<string, Schema>);
    merged.required.push(...((part['required'] as string[] | undefined) ?? []));
  }
  return parts.length === 1 && !('properties' in resolve(parts[0]!)) ? arbitraryOf(resolve(parts[0]!)) : objectOf({ type: 'object', ...merged });
}

function objectOf(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  const model = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, arbitraryOf(value)]));
  return fc.record(model, { requiredKeys: [...required].filter((key) => key in model) });
}
