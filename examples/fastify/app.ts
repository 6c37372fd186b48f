/**
 * WeChat website (QR) login on Fastify 5 with @fastify/passport and @fastify/session. Copy it as
 * a starting point; test/fastify.test.ts runs it against the local WeChat emulator.
 */
import fastifyCookie from '@fastify/cookie';
import { Authenticator } from '@fastify/passport';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance, type PassportUser } from 'fastify';
import { WeChatStrategy, type WeChatProfile, type WeChatStrategyOptions } from 'passport-wechat-oauth2';

declare module 'fastify' {
  // What the session keeps of a WeChat login; types `request.user` in the handlers.
  interface PassportUser { id: string; name: string }
  // Where `failureMessage: true` leaves the reason a login failed.
  interface Session { messages?: string[] }
}

export interface AppOptions {
  /** clientID, clientSecret, callbackURL, plus endpoint overrides (e.g. the emulator's). */
  strategy: WeChatStrategyOptions;
  /** Signs the session cookie: at least 32 characters. */
  sessionSecret: string;
  /** Served over https: Secure cookies. Plain http on localhost needs `false`. */
  secureCookie?: boolean;
  /** Fastify's `trustProxy`: which peers may set X-Forwarded-Proto/Host. Behind your proxy only. */
  trustProxy?: boolean | string | string[];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  // An instance of its own, so two apps in one process (tests) never share strategies.
  const passport = new Authenticator();
  passport.use('wechat', new WeChatStrategy(options.strategy, (_accessToken, _refreshToken, profile, done) => {
    // A real app finds or creates its user here, keyed by profile.id (the unionid when WeChat sends one).
    done(null, toUser(profile));
  }));
  passport.registerUserSerializer(async (user: PassportUser) => JSON.stringify(user));
  passport.registerUserDeserializer(async (json: string) => JSON.parse(json) as PassportUser);

  const app = Fastify({ trustProxy: options.trustProxy ?? false });
  await app.register(fastifyCookie);
  // The session keeps the state nonce between the redirect to WeChat and the callback.
  // @fastify/session sends Secure cookies by default, which a browser drops on http://localhost.
  await app.register(fastifySession, {
    secret: options.sessionSecret,
    cookie: { secure: options.secureCookie === true, httpOnly: true, sameSite: 'lax' },
  });
  await app.register(passport.initialize());
  await app.register(passport.secureSession());

  app.get('/auth/wechat', { preValidation: passport.authenticate('wechat') }, async () => {});
  app.get(
    '/auth/wechat/callback',
    { preValidation: passport.authenticate('wechat', { failureRedirect: '/login/failed', failureMessage: true }) },
    // Redirect away at once: reloading a URL that holds the code would spend it twice (errcode 40163).
    async (_request, reply) => reply.redirect('/me'),
  );
  app.get('/me', async (request) => ({ user: request.user ?? null }));
  app.get('/login/failed', async (request) => ({ messages: request.session.messages ?? [] }));
  return app;
}

function toUser(profile: WeChatProfile): PassportUser {
  return { id: profile.id, name: profile.displayName };
}
