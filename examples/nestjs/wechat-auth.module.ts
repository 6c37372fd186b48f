import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import type { WeChatStrategyOptions } from 'passport-wechat-oauth2';
import { WeChatAuthController } from './wechat-auth.controller.js';
import { WECHAT_OPTIONS, WeChatLoginStrategy } from './wechat.strategy.js';

@Module({})
export class WeChatAuthModule {
  static forRoot(options: WeChatStrategyOptions): DynamicModule {
    return {
      module: WeChatAuthModule,
      imports: [PassportModule],
      controllers: [WeChatAuthController],
      providers: [{ provide: WECHAT_OPTIONS, useValue: options }, WeChatLoginStrategy],
    };
  }
}
