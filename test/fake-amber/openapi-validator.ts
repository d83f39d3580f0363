/**
 * Validates JSON against Amber's OpenAPI 3.0 spec with ajv, for tests.
 *
 * The spec is `test/fixtures/amber/openapi.yaml` (see test/helpers/amber-fixtures.ts).
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` is rewritten to `anyOf [schema, null]`, `example` and
 * `description` are dropped, and the `date`/`date-time` formats are checked with strict patterns.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { amberFixturePath } from '../helpers/amber-fixtures.ts';

const OPENAPI_FILE = amberFixturePath('openapi.yaml');

type SchemaName =
  | 'Site'
  | 'Interval'
  | 'ActualInterval'
  | 'CurrentInterval'
  | 'ForecastInterval'
  | 'Usage'
  | 'ActualRenewable'
  | 'CurrentRenewable'
  | 'ForecastRenewable';

export interface OpenApiValidator {
  /** Every element of `rows` against `components.schemas[name]`; returns readable problems (empty when valid). */
  problems(name: SchemaName, rows: readonly unknown[]): string[];
}

const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function createOpenApiValidator(): OpenApiValidator {
  const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as { components: { schemas: Record<string, unknown> } };
  const ajv = new Ajv({ strict: false, discriminator: true, allErrors: true });
  ajv.addFormat('date', DATE);
  ajv.addFormat('date-time', DATE_TIME);
  ajv.addSchema({ components: { schemas: toJsonSchema(spec.components.schemas) } }, 'amber');
  const compiled = new Map<SchemaName, ValidateFunction>();
  return {
    problems(name, rows) {
      let validate = compiled.get(name);
      if (!validate) {
        validate = ajv.compile({ $ref: `amber#/components/schemas/${name}` });
        compiled.set(name, validate);
      }
      const found: string[] = [];
      rows.forEach((row, index) => {
        if (!validate(row)) found.push(`[${index}] ${describe(validate.errors ?? [])}`);
      });
      return found;
    },
  };
}

function describe(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

/** Rewrites the OpenAPI 3.0 dialect into plain JSON Schema, recursively. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, example: _example, description: _description, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(
    Object.entries(rest).map(([key, value]) => [key, key === 'properties' ? mapValues(value) : toJsonSchema(value)]),
  );
  return nullable === true ? { anyOf: [converted, { type: 'null' }] } : converted;
}

/** `properties` maps names to schemas; a property may itself be called `description` or `example`. */
function mapValues(properties: unknown): unknown {
  if (properties === null || typeof properties !== 'object') return properties;
  return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, toJsonSchema(value)]));
}
