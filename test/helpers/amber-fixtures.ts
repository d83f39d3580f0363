/**
 * Amber reference material (the OpenAPI spec and captured payloads) lives in the repository, under
 * test/fixtures/amber/, so that a plain clone runs every test with nothing beside it.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const FIXTURES = fileURLToPath(new URL('../fixtures/amber', import.meta.url));

/** Absolute path of a file under test/fixtures/amber (e.g. `openapi.yaml`, `payloads/x.json`). */
export function amberFixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}
