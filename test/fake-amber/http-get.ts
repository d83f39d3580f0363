/**
 * A minimal loopback GET for the fake server's own tests: real HTTP, the raw body kept for byte-level
 * assertions, JSON parsed when it parses.
 */
import type { FakeAmber } from './server.ts';

export interface GetResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not valid JSON. */
  json: unknown;
}

export async function get(
  fake: FakeAmber,
  path: string,
  query: Record<string, string | number> = {},
  options: { apiKey?: string | null } = {},
): Promise<GetResult> {
  const url = new URL(`${fake.url}${path}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  const apiKey = options.apiKey === undefined ? fake.apiKey : options.apiKey;
  const response = await fetch(url, { headers: apiKey === null ? {} : { Authorization: `Bearer ${apiKey}` } });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The body as an array of records; fails loudly when it is not one. */
export function rowsOf(result: GetResult): Array<Record<string, unknown>> {
  if (!Array.isArray(result.json)) throw new Error(`expected a JSON array, got HTTP ${result.status}: ${result.text.slice(0, 200)}`);
  return result.json as Array<Record<string, unknown>>;
}
