import { describe, expect, it } from 'vitest';
import { ChunkSlots } from '../../src/collector/chunk-slots.ts';

/** A unit of work the test finishes by hand, recording when it started. */
function manualWork(started: string[], name: string): { run: () => Promise<string>; finish: () => void; fail: () => void } {
  let finish = (): void => {};
  let fail = (): void => {};
  const done = new Promise<string>((resolve, reject) => {
    finish = () => resolve(name);
    fail = () => reject(new Error(`${name} failed`));
  });
  return {
    run: () => {
      started.push(name);
      return done;
    },
    finish: () => finish(),
    fail: () => fail(),
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ChunkSlots', () => {
  it('runs at most `count` at once and hands a freed slot to fresh work before backfill, oldest first', async () => {
    const slots = new ChunkSlots(2);
    const started: string[] = [];
    const work = Object.fromEntries(['b1', 'b2', 'b3', 'f1', 'f2'].map((name) => [name, manualWork(started, name)]));
    const results = [
      slots.use('backfill', work.b1!.run),
      slots.use('backfill', work.b2!.run),
      slots.use('backfill', work.b3!.run),
      slots.use('fresh', work.f1!.run),
      slots.use('fresh', work.f2!.run),
    ];
    await settle();
    expect(started).toEqual(['b1', 'b2']);
    work.b1!.finish();
    await settle();
    expect(started).toEqual(['b1', 'b2', 'f1']);
    work.b2!.finish();
    await settle();
    expect(started).toEqual(['b1', 'b2', 'f1', 'f2']);
    work.f1!.finish();
    await settle();
    expect(started).toEqual(['b1', 'b2', 'f1', 'f2', 'b3']);
    work.f2!.finish();
    work.b3!.finish();
    expect(await Promise.all(results)).toEqual(['b1', 'b2', 'b3', 'f1', 'f2']);
  });

  it('frees the slot when the work fails', async () => {
    const slots = new ChunkSlots(1);
    const started: string[] = [];
    const first = manualWork(started, 'first');
    const second = manualWork(started, 'second');
    const failing = slots.use('backfill', first.run);
    const next = slots.use('backfill', second.run);
    first.fail();
    await expect(failing).rejects.toThrow('first failed');
    await settle();
    expect(started).toEqual(['first', 'second']);
    second.finish();
    expect(await next).toBe('second');
    // Both slots' worth of work is done: a new caller starts at once.
    const third = manualWork(started, 'third');
    const last = slots.use('fresh', third.run);
    await settle();
    expect(started.at(-1)).toBe('third');
    third.finish();
    await last;
  });
});
