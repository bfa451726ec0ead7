export { buildGatewayApp } from './app.ts';
export type { Gateway, GatewayConfig, GatewayDeps, PoolConfig, RateLimitConfig } from './app.ts';
export { defaultGatewayConfig, gatewayConfigFromEnv, gatewayConfigSpec, GatewayFile } from './config.ts';
export { DEFAULT_ROUTES, compileRoutes } from './routes.ts';
export type { RouteClass, RouteEntry } from './routes.ts';
