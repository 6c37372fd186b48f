/**
 * A NestJS 12 app (platform-express) with WeChat website (QR) login. Copy it as a starting point;
 * test/nestjs.test.ts runs it against the local WeChat emulator.
 */
import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import session from 'express-session';

export async function createApp(
  module: DynamicModule,
  options: { sessionSecret: string; logger?: false },
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { logger: options.logger });
  // The session keeps the state nonce between the redirect to WeChat and the callback.
  app.use(session({ secret: options.sessionSecret, resave: false, saveUninitialized: false }));
  return app;
}
