/**
 * A connection to Home Assistant's websocket API (`/api/websocket`), over Node's own WebSocket client (undici's,
 * already a dependency, maintained with Node; no new package). The protocol's rules, from Home Assistant's
 * `websocket_api`: the server greets with `auth_required`, the client answers `auth` with its token within 10 s and
 * gets `auth_ok` or `auth_invalid` (then the server closes); every later message carries an `id` greater than the
 * one before on this connection, and its `result` (`success`, `result` or `error: {code, message}`) carries it
 * back. Messages may come coalesced as a JSON array if a client asks for it; this one does not, but reads both.
 */
import { CollectorError } from '../errors.ts';

type Message = Record<string, unknown>;

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class HomeAssistantSocket {
  readonly version: string;
  private readonly socket: WebSocket;
  private readonly origin: string;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: CollectorError | null = null;

  private constructor(socket: WebSocket, origin: string, version: string) {
    this.socket = socket;
    this.origin = origin;
    this.version = version;
    socket.addEventListener('message', (event) => this.received(event.data));
    socket.addEventListener('close', () => this.closed(new CollectorError('HOME_ASSISTANT_UNAVAILABLE', 'Home Assistant closed the connection', { retryable: true, details: { url: origin } })));
  }

  /** Connects and authenticates; a refused token is HOME_ASSISTANT_AUTH, anything else HOME_ASSISTANT_UNAVAILABLE. */
  static async connect(baseUrl: string, token: string, timeoutMs = 10_000): Promise<HomeAssistantSocket> {
    const origin = new URL(baseUrl).origin;
    const url = `${baseUrl.replace(/^http/, 'ws')}/api/websocket`;
    const unavailable = (why: string) => new CollectorError('HOME_ASSISTANT_UNAVAILABLE', `could not reach Home Assistant at ${origin}: ${why}`, { retryable: true, details: { url: origin } });
    return new Promise<HomeAssistantSocket>((resolve, reject) => {
      let socket: WebSocket;
      try {
        socket = new WebSocket(url);
      } catch (err) {
        reject(unavailable((err as Error).message));
        return;
      }
      let settled = false;
      const timer = setTimeout(() => fail(unavailable(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      // Closing fires the socket's own close and error events: only the first failure counts.
      const fail = (err: CollectorError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.close();
        reject(err);
      };
      socket.addEventListener('error', () => fail(unavailable('the connection failed')));
      socket.addEventListener('close', () => fail(unavailable('the connection closed during authentication')));
      const onMessage = (event: MessageEvent) => {
        const message = parse(event.data)[0];
        if (message?.['type'] === 'auth_required') socket.send(JSON.stringify({ type: 'auth', access_token: token }));
        else if (message?.['type'] === 'auth_invalid') {
          fail(new CollectorError('HOME_ASSISTANT_AUTH', `Home Assistant at ${origin} refused HOME_ASSISTANT_TOKEN: create a long-lived access token of an administrator (your profile, Security)`, { details: { url: origin, code: 'auth_invalid' } }));
        } else if (message?.['type'] === 'auth_ok' && !settled) {
          settled = true;
          clearTimeout(timer);
          socket.removeEventListener('message', onMessage);
          resolve(new HomeAssistantSocket(socket, origin, String(message['ha_version'] ?? 'unknown')));
        }
      };
      socket.addEventListener('message', onMessage);
    });
  }

  /** Sends one command and resolves with its `result`; Home Assistant's error becomes HOME_ASSISTANT_REJECTED (or _AUTH for `unauthorized`). */
  call<T = unknown>(command: Message, timeoutMs = 60_000): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CollectorError('HOME_ASSISTANT_UNAVAILABLE', `Home Assistant did not answer ${String(command['type'])} within ${timeoutMs / 1000} s`, { retryable: true, details: { url: this.origin } }));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, timer });
      this.socket.send(JSON.stringify({ ...command, id }));
    });
  }

  close(): void {
    this.closed(new CollectorError('HOME_ASSISTANT_UNAVAILABLE', 'the connection to Home Assistant was closed', { retryable: true, details: { url: this.origin } }));
    this.socket.close();
  }

  private received(data: unknown): void {
    for (const message of parse(data)) {
      const pending = typeof message['id'] === 'number' ? this.pending.get(message['id']) : undefined;
      if (!pending || (message['type'] !== 'result' && message['type'] !== 'pong')) continue;
      this.pending.delete(message['id'] as number);
      clearTimeout(pending.timer);
      if (message['type'] === 'pong' || message['success'] === true) {
        pending.resolve(message['result']);
        continue;
      }
      const error = (message['error'] ?? {}) as { code?: string; message?: string };
      const code = error.code === 'unauthorized' ? 'HOME_ASSISTANT_AUTH' : 'HOME_ASSISTANT_REJECTED';
      const hint = code === 'HOME_ASSISTANT_AUTH' ? ': importing statistics needs an administrator\'s token' : '';
      pending.reject(new CollectorError(code, `Home Assistant refused the command: ${error.message ?? error.code ?? 'no reason given'}${hint}`, { details: { url: this.origin, code: error.code ?? 'unknown' } }));
    }
  }

  private closed(err: CollectorError): void {
    this.closedError ??= err;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.pending.delete(id);
    }
  }
}

/** One message, or several when coalesced into an array; anything unreadable is no message. */
function parse(data: unknown): Message[] {
  try {
    const value: unknown = JSON.parse(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8'));
    return (Array.isArray(value) ? value : [value]).filter((m): m is Message => typeof m === 'object' && m !== null);
  } catch {
    return [];
  }
}
