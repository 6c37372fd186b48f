/**
 * The Express 5 app around a WeChat login, wired as the README shows: express-session, then
 * passport.session(), the login routes, /me and the page a failed login goes to.
 */
import express from 'express';
import session from 'express-session';
import type { Passport } from 'passport';

export interface LoginAppOptions {
  sessionSecret: string;
  /** The callback's failureRedirect: that page answers `{ messages }`, what failureMessage put in the session. */
  failurePath: string;
  /** The failure page's status. */
  failureStatus?: number;
}

/**
 * An app on `passport` (its 'wechat' strategy and user serialization set up by the caller):
 * GET /auth/wechat starts the login, GET /auth/wechat/callback ends it in a redirect to /me or to
 * `failurePath` with failureMessage, GET /me answers `{ user }`. Add an error handler after it
 * when the test needs one.
 */
export function expressLoginApp(passport: InstanceType<typeof Passport>, { sessionSecret, failurePath, failureStatus = 200 }: LoginAppOptions): express.Express {
  const app = express();
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/wechat', passport.authenticate('wechat'));
  app.get(
    '/auth/wechat/callback',
    passport.authenticate('wechat', { failureRedirect: failurePath, failureMessage: true }),
    (_req, res) => res.redirect('/me'),
  );
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get(failurePath, (req, res) => {
    res.status(failureStatus).json({ messages: (req.session as unknown as { messages?: string[] }).messages ?? [] });
  });
  return app;
}

/**
 * A custom-callback route that answers JSON: `{ user }` after `req.logIn`, or on a failure Passport's
 * status (401 without one) and `{ [failedKey]: info }`. Errors go to `next`.
 */
export function jsonCallback(passport: InstanceType<typeof Passport>, failedKey: string): express.RequestHandler {
  return (req, res, next) => {
    passport.authenticate('wechat', (error: unknown, user: Express.User | false, info: unknown, status: unknown) => {
      if (error) return next(error);
      if (!user) return res.status(typeof status === 'number' ? status : 401).json({ [failedKey]: info ?? null });
      req.logIn(user, (loginError) => (loginError ? next(loginError) : res.json({ user })));
    })(req, res, next);
  };
}
