/**
 * No request may stop the daemon. A running daemon (real collector, fake Amber server, its own database)
 * gets a few thousand random and hostile requests over raw loopback sockets: request lines the URL parser
 * refuses, absolute-form targets with bad ports, control characters, huge and repeated headers, bad
 * lengths, garbage bytes. Each must be answered or closed, never with a 500, and afterwards the daemon
 * must still be collecting.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startDaemonForTest, daemonConfigFor } from '../helpers/daemon.ts';
import { databaseForTest } from '../helpers/database.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { fakeAmberForTest } from '../helpers/fake-amber.ts';

const REQUESTS = 3000;
const PARALLEL = 24;
/** How long one request may take to be answered or closed before it counts as left hanging (generous: CPUs are shared). */
const ANSWER_WITHIN_MS = 8_000;

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'GE T', 'get', 'X'.repeat(300), ''];
const TARGETS = [
  '//:',
  'http://a:b/healthz',
  'http://a/healthz',
  'https://[::1/readyz',
  'http://:@:/',
  '*',
  '',
  ' ',
  '//',
  '///healthz',
  '//evil.example/healthz',
  '/healthz',
  '/readyz',
  '/metrics',
  '/',
  '/api/sites',
  '/api/prices?from=9999-01-01&to=9999-12-31',
  '/api/prices?from=0000-01-01T00:00:00Z',
  '/api/prices?window=1d&agg=sum&from=2025-01-01&to=2025-12-31',
  '/api/usage?channel=%00',
  '/api/usage?site=%E0%A4%A',
  '/api/costs?from=2025-02-30',
  '/api/prices/current?site=\u0001',
  '/api/prices?site=a&site=b',
  '/api/status?token=x&token=y',
  '/%',
  '/%zz',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/../../../../etc/passwd',
  '/dashboard/../../package.json',
  '/dashboard/app.js?%',
  `/${'a'.repeat(20_000)}`,
  `/api/prices?from=${'9'.repeat(5_000)}`,
  '/\u00ff\u00fe',
  '/\\\\evil\\healthz',
  'javascript:alert(1)',
  'file:///etc/passwd',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1.1 extra', 'HTTX/1.1', ''];
const HEADERS = [
  'Host: 127.0.0.1',
  'Host: evil.example',
  'Host: ',
  'Host: a\r\nHost: b',
  'Authorization: Bearer ',
  'Authorization: Bearer \u00ff\u00ff',
  `Authorization: Bearer ${'x'.repeat(10_000)}`,
  'Authorization: Basic Og==',
  'Content-Length: -1',
  'Content-Length: 99999999999999999999',
  'Content-Length: 5\r\nContent-Length: 6',
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: gzip, chunked',
  'Transfer-Encoding: chunked\r\nContent-Length: 3',
  'Expect: 100-continue',
  'Connection: upgrade\r\nUpgrade: websocket',
  'If-None-Match: *',
  'X-Forwarded-For: ::1',
  'no colon here',
  ': empty name',
  ' leading-space: x',
  'X-Nul: a\u0000b',
  'X-Ctl: \u0007\u001b[31m',
  `X-Big: ${'y'.repeat(20_000)}`,
  `${'Z'.repeat(3_000)}: z`,
];
const BODIES = ['', 'hello', '0\r\n\r\n', 'zz\r\nnot hex\r\n\r\n', '\u0000'.repeat(64)];

/** One hostile request as raw bytes. */
function hostileRequest(next: () => number): Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  if (next() < 0.08) {
    // Pure garbage bytes, ending like a header block so the parser has to decide.
    const bytes = Buffer.alloc(1 + Math.floor(next() * 600));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
    return Buffer.concat([bytes, Buffer.from('\r\n\r\n')]);
  }
  const newline = next() < 0.1 ? '\n' : '\r\n';
  const headers = Array.from({ length: Math.floor(next() * 6) }, () => pick(HEADERS));
  if (next() < 0.05) headers.push(...Array.from({ length: 300 }, (_, i) => `X-Many-${i}: ${i}`));
  const line = [pick(METHODS), pick(TARGETS), pick(VERSIONS)].filter((part) => part !== '' || next() < 0.5).join(' ');
  const text = `${line}${newline}${headers.join(newline)}${headers.length > 0 ? newline : ''}${newline}${pick(BODIES)}`;
  return Buffer.from(text, next() < 0.5 ? 'utf8' : 'latin1');
}

type Outcome = { kind: 'answered'; status: number } | { kind: 'closed' } | { kind: 'hung' };

/** Sends `bytes` on a fresh connection; the outcome is the status line received, a close, or nothing. */
function send(port: number, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'hung' }), ANSWER_WITHIN_MS);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      // An interim `100 Continue` (the request said `Expect: 100-continue`) is not the answer.
      received = (received + chunk.toString('latin1')).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(received);
      if (status) finish({ kind: 'answered', status: Number(status[1]) });
      else if (received.length > 32) finish({ kind: 'answered', status: 0 });
    });
    socket.on('error', () => finish({ kind: 'closed' }));
    socket.on('close', () => finish({ kind: 'closed' }));
  });
}

describe('hostile requests', () => {
  it('are each answered or closed, never with a 500, and the daemon keeps collecting', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '* * * * * *' });
    await daemon.log.waitFor('cycle finished');

    const next = seededRandom(0x616d62);
    const outcomes: Outcome[] = [];
    const samples = new Map<string, string>();
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < REQUESTS) {
        sent += 1;
        const bytes = hostileRequest(next);
        const outcome = await send(daemon.port, bytes);
        outcomes.push(outcome);
        const key = outcome.kind === 'answered' ? String(outcome.status) : outcome.kind;
        if (!samples.has(key)) samples.set(key, JSON.stringify(bytes.toString('latin1').slice(0, 200)));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));

    const tally = (key: string): number => outcomes.filter((o) => (o.kind === 'answered' ? String(o.status) : o.kind) === key).length;
    expect(outcomes).toHaveLength(REQUESTS);
    expect({ hung: tally('hung'), sample: samples.get('hung') }).toEqual({ hung: 0, sample: undefined });
    const serverErrors = outcomes.filter((o) => o.kind === 'answered' && o.status >= 500);
    expect({ serverErrors: serverErrors.length, samples: [...samples].filter(([key]) => key.startsWith('5')) }).toEqual({ serverErrors: 0, samples: [] });
    // No handler failed on the way (a 500 that a closed socket hid would still be logged).
    const failures = daemon.log.lines.filter((l) => l['message'] === 'HTTP handler failed; answered 500');
    expect(failures.map((l) => ({ target: l['target'], error: (l['err'] as { message?: string }).message }))).toEqual([]);

    // Still collecting: a cycle that starts after the barrage finishes, and /readyz is 200.
    const cyclesBefore = daemon.log.lines.filter((l) => l['message'] === 'cycle finished').length;
    const deadline = Date.now() + 20_000;
    while (daemon.log.lines.filter((l) => l['message'] === 'cycle finished').length <= cyclesBefore + 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(daemon.log.lines.filter((l) => l['message'] === 'cycle finished').length).toBeGreaterThan(cyclesBefore + 1);
    const ready = await fetch(`http://127.0.0.1:${daemon.port}/readyz`);
    expect(ready.status).toBe(200);
    // A few seconds alone; the bound is for a machine shared with other test files.
  }, 120_000);

  it('answers 400 to request targets the URL parser refuses', async () => {
    const fake = await fakeAmberForTest();
    const db = await databaseForTest();
    const daemon = await startDaemonForTest(daemonConfigFor(fake, db.url), { cycleCron: '0 0 1 1 *' });
    for (const target of ['http://a:b/healthz', 'https://[::1/readyz', '*']) {
      const outcome = await send(daemon.port, Buffer.from(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
      expect({ target, outcome }).toEqual({ target, outcome: { kind: 'answered', status: 400 } });
    }
    // `//:` and `//x/healthz` are paths (not the host x): they name no route.
    expect(await send(daemon.port, Buffer.from('GET //: HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).toEqual({ kind: 'answered', status: 404 });
    expect(await send(daemon.port, Buffer.from('GET //x/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).toEqual({ kind: 'answered', status: 404 });
    expect(await send(daemon.port, Buffer.from('GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).toEqual({ kind: 'answered', status: 200 });
    // Client mistakes are no errors in the log.
    expect(daemon.log.lines.filter((l) => (l['level'] as number) >= 50)).toEqual([]);
  });
});
