/**
 * Where command output goes. Writes wait for the stream to drain, so a large export piped into a slow
 * consumer (`| less`, a network upload) holds at most one page in memory instead of buffering it all.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface Output {
  write(text: string): Promise<void>;
}

export function streamOutput(stream: Writable): Output {
  // A closed pipe (`| head`: EPIPE) must end the output with an error, neither hang it nor crash the process.
  let failure: Error | null = null;
  stream.on('error', (err) => {
    failure = err;
  });
  return {
    async write(text) {
      if (failure) throw failure;
      if (text === '' || stream.write(text)) return;
      await once(stream, 'drain'); // rejects if the stream fails while we wait
    },
  };
}

/** Keeps everything written, for tests and for callers that post-process output. */
export function memoryOutput(): Output & { readonly text: string } {
  let text = '';
  return {
    get text() {
      return text;
    },
    async write(chunk) {
      text += chunk;
    },
  };
}
