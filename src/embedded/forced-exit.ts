/**
 * What must still happen when the process is forced out (a second Ctrl-C, the shutdown deadline, a crash):
 * the embedded PostgreSQL servers this process started are told to stop, so none is left behind. A server
 * registers its stop here while it runs; the one `process` 'exit' hook that runs them is installed by the
 * CLI's main (`cli.ts`), so that starting a server (in a test, the bench, a command) adds no process listener
 * of its own.
 */
const stops = new Set<() => void>();

/** Registers a synchronous last-moment stop; returns what unregisters it (the server stopped normally). */
export function onForcedExit(stop: () => void): () => void {
  stops.add(stop);
  return () => {
    stops.delete(stop);
  };
}

/** Runs every registered stop; cli.ts makes it the process's exit hook. Synchronous, as an exit hook must be. */
export function runForcedExitStops(): void {
  for (const stop of stops) stop();
}
