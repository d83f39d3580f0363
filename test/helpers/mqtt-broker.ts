/**
 * A real MQTT broker for one test: Debian's Mosquitto on a free loopback port (`.ci/run` installs it), or, on a
 * machine without it (only Node), an in-process Aedes broker so the suite still passes. Which one ran is printed,
 * so a run on the fallback is never mistaken for a run against Mosquitto. Retained messages are not persisted, so a
 * restart loses them, as a broker restarted without persistence does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';

/** MQTT_TEST_BROKER=aedes runs the fallback even where Mosquitto is installed, to check it. */
const MOSQUITTO =
  process.env['MQTT_TEST_BROKER'] === 'aedes' ? null : (['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((path) => existsSync(path)) ?? null);

export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  url: string;
  port: number;
  /** Stops the broker and starts it again on the same port, with no retained messages. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

let announced = false;

export async function brokerForTest(options: { users?: Record<string, string> } = {}): Promise<TestBroker> {
  const port = await freePort();
  const broker = MOSQUITTO ? await mosquitto(MOSQUITTO, port, options.users) : await aedes(port, options.users);
  if (!announced) {
    announced = true;
    process.stdout.write(`MQTT tests run against ${broker.kind === 'mosquitto' ? `Mosquitto (${MOSQUITTO})` : 'the in-process Aedes broker (Mosquitto is not installed, or MQTT_TEST_BROKER=aedes)'}\n`);
  }
  onTestFinished(() => broker.stop());
  return broker;
}

/** A subscriber that records every message it receives, with its retain flag. */
export interface Recorder {
  client: MqttClient;
  messages: Array<{ topic: string; payload: string; retain: boolean }>;
  /** The last payload seen on `topic`. */
  last(topic: string): string | undefined;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
}

export async function recordTopics(broker: TestBroker, topics: string[]): Promise<Recorder> {
  const client = await connectAsync(broker.url, { reconnectPeriod: 200 });
  const messages: Recorder['messages'] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync(topics, { qos: 1 });
  onTestFinished(() => client.endAsync(true));
  return {
    client,
    messages,
    last: (topic) => messages.findLast((m) => m.topic === topic)?.payload,
    waitFor: async (predicate, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error('timed out waiting for MQTT messages');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

async function mosquitto(binary: string, port: number, users: Record<string, string> | undefined): Promise<TestBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
  // Started as root, Mosquitto drops to its own user, which must be able to read the files.
  await chmod(dir, 0o755);
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error'];
  if (users) {
    const passwords = join(dir, 'passwords');
    await writeFile(passwords, '');
    for (const [user, password] of Object.entries(users)) spawnSync('mosquitto_passwd', ['-b', passwords, user, password]);
    await chmod(passwords, 0o644);
    lines.push('allow_anonymous false', `password_file ${passwords}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);
  await chmod(conf, 0o644);
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port);
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (running && running.exitCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    }
  };
  await start();
  return {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function aedes(port: number, users: Record<string, string> | undefined): Promise<TestBroker> {
  let broker: Aedes | null = null;
  let server: Server | null = null;
  const start = async () => {
    broker = await Aedes.createBroker();
    if (users) {
      broker.authenticate = (_client, username, password, done) => {
        const ok = username !== undefined && users[username] !== undefined && users[username] === password?.toString();
        done(ok ? null : Object.assign(new Error('not authorized'), { returnCode: 5 as const }), ok);
      };
    }
    const current = broker;
    server = createServer((socket) => current.handle(socket));
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  };
  const halt = async () => {
    const [b, s] = [broker, server];
    broker = null;
    server = null;
    // The broker first: it drops its clients, without which the server's close would wait for them forever.
    if (b) await new Promise((resolve) => b.close(() => resolve(undefined)));
    if (s) await new Promise((resolve) => s.close(resolve));
  };
  await start();
  return {
    kind: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await halt();
      await start();
    },
    stop: halt,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`the broker did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
