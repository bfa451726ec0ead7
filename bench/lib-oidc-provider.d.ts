/** The part of oidc-provider's API the token benchmark uses (the package ships no type declarations). */
declare module 'oidc-provider' {
  import type { Server } from 'node:http';

  interface Model {
    save(): Promise<string>;
  }
  interface GrantModel extends Model {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    listen(port: number, host: string): Server;
    Client: { find(clientId: string): Promise<unknown> };
    Grant: new (fields: { accountId: string; clientId: string }) => GrantModel;
    RefreshToken: new (fields: Record<string, unknown>) => Model;
  }
}
