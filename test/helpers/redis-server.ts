/**
 * A Redis server for tests: REDIS_URL's (.ci/run starts one), or a redis-server of the test's own on
 * a Unix socket in a temporary directory (no port to race for). Needs Debian's redis-server then.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REDIS_SERVER = '/usr/bin/redis-server';

/** Where the server listens (a redis:// URL, or a Unix socket path), and how to stop it. */
export interface TestRedis {
  url?: string;
  socketPath?: string;
  stop(): void;
}

export async function startTestRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => {} };
  if (!existsSync(REDIS_SERVER)) throw new Error('redis-server is missing: apt-get install -y redis-server (or set REDIS_URL)');
  const dir = mkdtempSync(path.join(tmpdir(), 'wechat-redis-'));
  const socketPath = path.join(dir, 'redis.sock');
  const server = spawn(REDIS_SERVER, ['--port', '0', '--unixsocket', socketPath, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  // The socket file appears once the server accepts connections.
  for (let waited = 0; !existsSync(socketPath); waited += 20) {
    if (waited > 10_000 || server.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    socketPath,
    stop: () => {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
