/**
 * Amber reference material (the OpenAPI spec and real captured payloads) lives in `shared/amber/` beside the
 * repository, not inside it. Tests read it from there, or from AMBER_SHARED_DIR when it lives elsewhere.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const beside = fileURLToPath(new URL('../../../shared/amber', import.meta.url));

/** Absolute path of a file under shared/amber (e.g. `openapi.yaml`, `payloads/x.json`). */
export function sharedAmberPath(...parts: string[]): string {
  const dir = process.env['AMBER_SHARED_DIR'] ?? beside;
  if (!existsSync(dir)) {
    throw new Error(`Amber reference material not found at ${dir}: check out shared/ beside the repository or set AMBER_SHARED_DIR`);
  }
  return join(dir, ...parts);
}
