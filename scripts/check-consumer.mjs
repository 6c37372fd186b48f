// Compiles a strict TypeScript consumer against the packed tarball, as a user gets it: `strict`,
// `skipLibCheck: false`, `module: nodenext`, once as an ES module and once as CommonJS, with the
// newest TypeScript 5 and the newest TypeScript major. Our own tsconfig skips lib checks, which
// once hid a broken .d.ts; this does not. Needs the npm registry (it installs into a temp folder).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TYPESCRIPTS = process.env.CONSUMER_TYPESCRIPTS?.split(',') ?? ['5', 'latest'];

// Every public entry point in use, so each .d.ts it reaches is compiled.
const SOURCE = `
import { WeChatAppStrategy, WeChatError, WeChatMiniProgramStrategy, WeChatStrategy, MemoryCallbackStore, parseProfile, decryptUserData, isInsideWeChat } from 'passport-wechat-oauth2';
import type { VerifyCallback, WeChatFailureInfo, WeChatProfile, WeChatStrategyOptions, WeChatCallbackStore, WeChatTokenResponse } from 'passport-wechat-oauth2';
import { WeChatEmulator } from 'passport-wechat-oauth2/testing';
import { redisCallbackStore } from 'passport-wechat-oauth2/redis';
import { createClient } from 'redis';
import { createClient as createClientV4 } from 'redis4';
import { Redis, Cluster } from 'ioredis';

const options: WeChatStrategyOptions = { clientID: 'wx1', clientSecret: 'secret', callbackURL: 'https://example.com/cb' };
export const website = new WeChatStrategy(options, (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id }));
export const withParams = new WeChatStrategy(options, (_a: string, _r: string, params: WeChatTokenResponse, profile: WeChatProfile, done: VerifyCallback) => done(null, { id: profile.id, openid: params.openid }));
export const miniProgram = new WeChatMiniProgramStrategy({ clientID: 'wx2', clientSecret: 'secret' }, (sessionKey, profile, done) => {
  if (String(sessionKey) === '') decryptUserData('AAAA', 'AAAAAAAAAAAAAAAAAAAAAA==', 'AAAAAAAAAAAAAAAAAAAAAA==', 'wx2');
  done(null, { id: profile.id });
});
export const app = new WeChatAppStrategy({ clientID: 'wx3', clientSecret: 'secret' }, (_a, _r, profile, done) => done(null, { id: profile.id }));
export const store: WeChatCallbackStore = new MemoryCallbackStore();
export const failure: WeChatFailureInfo = { code: 'WECHAT_DECLINED', message: 'declined' };
export const profile: WeChatProfile = parseProfile({ openid: 'o1' });
export const inside: boolean = isInsideWeChat('MicroMessenger');
export function codeOf(error: unknown): string | undefined {
  return error instanceof WeChatError ? error.code : undefined;
}
// The Redis store takes each client the docs name, as its own typings declare it. (ioredis's
// .d.ts needs @types/redis-errors under skipLibCheck: false, which the install below adds.)
export const stores: WeChatCallbackStore[] = [
  redisCallbackStore(createClient({ disableOfflineQueue: true })),
  redisCallbackStore(createClientV4({ disableOfflineQueue: true }), { prefix: 'app1:' }),
  redisCallbackStore(new Redis({ lazyConnect: true, enableOfflineQueue: false })),
  redisCallbackStore(new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true })),
];
export async function emulate(): Promise<string> {
  const emulator = await WeChatEmulator.start();
  try {
    return emulator.url;
  } finally {
    await emulator.close();
  }
}
`;

const TSCONFIG = {
  compilerOptions: { strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2023', noEmit: true, types: ['node'] },
  include: ['consumer.ts'],
};

const dir = mkdtempSync(join(tmpdir(), 'wechat-consumer-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });
let failed = 0;
try {
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { encoding: 'utf8' });
  const tarball = join(dir, packed.trim().split('\n').at(-1));
  for (const typescript of TYPESCRIPTS) {
    for (const type of ['module', 'commonjs']) {
      const project = join(dir, `ts-${typescript}-${type}`);
      mkdirSync(project);
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
      writeFileSync(join(project, 'consumer.ts'), SOURCE);
      run('npm', ['install', '--no-audit', '--no-fund', '--silent', tarball, `typescript@${typescript}`, '@types/node@24', 'passport', 'redis@5', 'redis4@npm:redis@4', 'ioredis', '@types/redis-errors'], project);
      const version = execFileSync(join(project, 'node_modules/.bin/tsc'), ['--version'], { encoding: 'utf8' }).trim();
      try {
        run(join(project, 'node_modules/.bin/tsc'), ['-p', project], project);
        console.log(`ok: ${version}, ${type}, strict, skipLibCheck false`);
      } catch {
        failed += 1;
        console.error(`FAILED: ${version}, ${type}, strict, skipLibCheck false`);
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed === 0 ? 0 : 1);
