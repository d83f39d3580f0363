/** What a command run in-process writes: stdout and stderr captured as arrays of the chunks written. */
import type { CommandIo } from '../../src/commands/frame/define-command.ts';

export interface CapturedIo {
  out: string[];
  err: string[];
  io: CommandIo;
}

export function captureIo(): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: { write: async (text: string) => void out.push(text) }, err: { write: async (text: string) => void err.push(text) } } };
}
