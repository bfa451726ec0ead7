import type { Telemetry } from '@tessera/telemetry';
import type { AccessTokenInput, IdTokenInput, TokenSigner } from './contracts.ts';

/**
 * A {@link TokenSigner} whose signatures each run in a `token.sign` span (type and algorithm
 * family only; never claims or the token). Returns `signer` itself when tracing is off.
 *
 * @example
 * const signer = tracedSigner(new JwtTokenSigner({ keys, issuer, clock }), telemetry);
 */
export function tracedSigner(signer: TokenSigner, telemetry: Telemetry): TokenSigner {
  if (!telemetry.enabled) return signer;
  return {
    signAccessToken: (input: AccessTokenInput) =>
      telemetry.span('token.sign', { 'tessera.jwt_type': 'access_token' }, () =>
        signer.signAccessToken(input),
      ),
    signIdToken: (input: IdTokenInput) =>
      telemetry.span('token.sign', { 'tessera.jwt_type': 'id_token' }, () => signer.signIdToken(input)),
  };
}
