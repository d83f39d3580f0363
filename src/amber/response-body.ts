/**
 * A response body to parsed elements: JSON that is not an array is an AMBER_SCHEMA error with a sample;
 * elements that fail validation are logged once per response (count by rule and one sample) and returned in
 * `rejected`; text PostgreSQL cannot store is replaced before parsing, and said so.
 */
import type { Parsed } from '../domain/models.ts';
import { CollectorError, isCollectorError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { describeCall, type CallTarget, type UnstorableTextEvent } from './call-target.ts';
import { truncatedSample } from './schemas.ts';
import { mayHoldUnstorableText, storableJson } from './storable-text.ts';

interface BodyObserver {
  logger: Logger;
  onUnstorableText?: ((event: UnstorableTextEvent) => void) | undefined;
}

export function parseResponseBody<T>(target: CallTarget, text: string, parse: (body: unknown) => Parsed<T>, observer: BodyObserver): Parsed<T> {
  const { logger } = observer;
  let parsed: Parsed<T>;
  try {
    parsed = parse(storableBody(target, text, JSON.parse(text), observer));
  } catch (err) {
    // Invalid JSON (a SyntaxError) or a body that is not an array; anything else is a bug and surfaces as is.
    if (!(err instanceof SyntaxError || isCollectorError(err, 'AMBER_SCHEMA'))) throw err;
    const sample = truncatedSample(text);
    logger.error({ ...describeCall(target), sample }, 'Amber sent a body that is not a JSON array');
    throw new CollectorError('AMBER_SCHEMA', `Amber sent an unreadable ${target.endpoint} body`, {
      retryable: true,
      cause: err,
      details: { ...describeCall(target), sample },
    });
  }
  const [first] = parsed.rejected;
  if (first !== undefined) {
    // One line per response, whatever the number of bad elements: the count by reason and one sample.
    const rules: Record<string, number> = {};
    for (const item of parsed.rejected) rules[item.rule] = (rules[item.rule] ?? 0) + 1;
    logger.warn(
      {
        ...describeCall(target),
        rejected: parsed.rejected.length,
        accepted: parsed.items.length,
        rules,
        sample: { index: first.index, rule: first.rule, problems: first.problems.slice(0, 3), element: first.sample },
      },
      'Amber response has elements that failed validation',
    );
  }
  return parsed;
}

/** `body` with the characters PostgreSQL cannot store replaced (storable-text.ts), logged once per response. */
function storableBody(target: CallTarget, text: string, body: unknown, { logger, onUnstorableText }: BodyObserver): unknown {
  if (!mayHoldUnstorableText(text)) return body;
  const storable = storableJson(body);
  if (storable.replaced > 0) {
    logger.warn(
      { ...describeCall(target), replaced: storable.replaced, sample: truncatedSample(storable.firstReplaced, 200) },
      'Amber sent text PostgreSQL cannot store (NUL or a lone surrogate); replaced with U+FFFD',
    );
    onUnstorableText?.({ endpoint: target.endpoint, replaced: storable.replaced });
  }
  return storable.value;
}
