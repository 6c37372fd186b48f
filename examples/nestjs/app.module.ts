import { Module, type DynamicModule } from '@nestjs/common';
import type { WeChatStrategyOptions } from 'passport-wechat-oauth2';
import { WeChatAuthModule } from './wechat-auth.module.js';
import { WeChatTokenModule } from './wechat-token.js';

/** Two strategies of the same class, 'wechat' and 'wechat-token', each with its own options. */
@Module({})
export class AppModule {
  static forRoot(options: { login: WeChatStrategyOptions; token: WeChatStrategyOptions }): DynamicModule {
    return {
      module: AppModule,
      imports: [WeChatAuthModule.forRoot(options.login), WeChatTokenModule.forRoot(options.token)],
    };
  }
}
