import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { ANONYMOUS, type Principal } from '@wharf/sdk';
import type { TokenSettings } from '../config/types.js';
import { BoundedCache } from './bounded-cache.js';
import type { TokenKey, TokenKeys } from './keys.js';
import type { DeniedAccess } from './grant.js';
import type { ResourceScope } from './scope.js';

/**
 * Issues and verifies the Docker token spec's JWTs. Access tokens carry `iss`, `sub`, `aud`
 * (the service), `exp`, `nbf`, `iat`, `jti` and `access`; the header names the key by `kid`.
 * A token that grants less than was asked also carries `denied`: why each refused repository
 * action was refused, so `/v2/` can tell the client when it refuses the request (clients print
 * the registry's error message, never the token endpoint's answer).
 * Refresh tokens are JWTs of another `typ` and audience, so no check that accepts one kind can
 * accept the other. Verification only trusts the keys it holds, with the algorithm each key
 * implies (never `none`, never a MAC), and caches results until the token expires.
 */

/** Header `typ` of refresh tokens; access tokens use `JWT`. */
export const REFRESH_TYP = 'wharf-refresh+jwt';
const ACCESS_TYP = 'JWT';
/** A registry sees a handful of live tokens per client; this bounds memory under abuse. */
const VERIFY_CACHE_SIZE = 10_000;
/** Bounds on the `denied` claim: a token stays small whatever a client asks for. */
const MAX_DENIED = 16;
const MAX_REASON_CHARS = 300;

/** A token was refused; `reason` is for logs and the challenge's error description. */
export class TokenError extends Error {
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
    this.name = 'TokenError';
  }
}

/** What a verified access token grants. */
export interface VerifiedAccess {
  readonly principal: Principal;
  readonly access: readonly ResourceScope[];
  /** Why the token service refused what the token does not grant (its `denied` claim). */
  readonly denied: readonly DeniedAccess[];
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}

export interface IssuedToken {
  readonly token: string;
  /** Seconds until expiry. */
  readonly expiresIn: number;
  readonly issuedAt: Date;
}

/**
 * Principal facts carried by tokens beyond `sub` (groups stay out: they can be large). The
 * provider's `claims` (never secrets: a password's age, a robot secret's fingerprint, a DN) ride
 * along, so `auth.active` can tell a token of a replaced credential and refuse it.
 */
interface PrincipalClaim {
  kind: Principal['kind'];
  provider: string;
  admin: boolean;
  claims?: Record<string, unknown>;
}

/** Claims larger than this stay out of tokens (a provider that would need them refuses such tokens). */
export const MAX_CARRIED_CLAIMS_BYTES = 1024;

export interface TokenServiceOptions {
  readonly settings: TokenSettings;
  readonly keys: TokenKeys;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function principalClaim(p: Principal): PrincipalClaim {
  const claim: PrincipalClaim = { kind: p.kind, provider: p.provider, admin: p.admin };
  if (p.claims !== undefined && Buffer.byteLength(JSON.stringify(p.claims)) <= MAX_CARRIED_CLAIMS_BYTES) claim.claims = { ...p.claims };
  return claim;
}

function principalFrom(sub: string, claim: unknown): Principal {
  if (sub === '') return ANONYMOUS;
  const c = (typeof claim === 'object' && claim !== null ? claim : {}) as Partial<PrincipalClaim>;
  const kind = c.kind === 'robot' || c.kind === 'system' ? c.kind : 'user';
  const claims = typeof c.claims === 'object' && c.claims !== null && !Array.isArray(c.claims) ? Object.freeze({ ...c.claims }) : undefined;
  return Object.freeze({
    subject: sub,
    kind,
    provider: typeof c.provider === 'string' ? c.provider : 'token',
    groups: Object.freeze([]) as readonly string[],
    admin: c.admin === true,
    ...(claims ? { claims } : {}),
  });
}

function deniedList(value: unknown): DeniedAccess[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (e: unknown): e is DeniedAccess =>
      typeof e === 'object' &&
      e !== null &&
      ['type', 'name', 'action', 'reason'].every((k) => typeof (e as Record<string, unknown>)[k] === 'string'),
  );
}

function isAccessList(value: unknown): value is ResourceScope[] {
  return (
    Array.isArray(value) &&
    value.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as ResourceScope).type === 'string' &&
        typeof (e as ResourceScope).name === 'string' &&
        Array.isArray((e as ResourceScope).actions) &&
        (e as ResourceScope).actions.every((a) => typeof a === 'string'),
    )
  );
}

export class TokenService {
  private readonly cache: BoundedCache<string, VerifiedAccess>;
  private readonly now: () => number;

  constructor(private readonly options: TokenServiceOptions) {
    this.now = options.now ?? Date.now;
    this.cache = new BoundedCache(VERIFY_CACHE_SIZE, this.now);
  }

  get service(): string {
    return this.options.settings.service;
  }

  get jwks(): TokenKeys['jwks'] {
    return this.options.keys.jwks;
  }

  private sign(payload: JWTPayload, typ: string, audience: string, lifetime: number, subject: string): Promise<string> {
    const { signing } = this.options.keys;
    const iat = seconds(this.now());
    return new SignJWT(payload)
      .setProtectedHeader({ alg: signing.alg, typ, kid: signing.kid })
      .setIssuer(this.options.settings.issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + lifetime)
      .setJti(randomUUID())
      .sign(signing.privateKey);
  }

  /** An access token for `principal` granting exactly `access`; `denied` says why the rest was refused. */
  async issueAccessToken(principal: Principal, access: readonly ResourceScope[], denied: readonly DeniedAccess[] = []): Promise<IssuedToken> {
    const lifetime = this.options.settings.lifetimeSeconds;
    const issuedAt = new Date(seconds(this.now()) * 1000);
    const subject = principal.kind === 'anonymous' ? '' : principal.subject;
    const claims: JWTPayload = { access: access.map((a) => ({ type: a.type, name: a.name, actions: [...a.actions] })) };
    if (principal.kind !== 'anonymous') claims.wharf = principalClaim(principal);
    if (denied.length > 0) {
      claims.denied = denied.slice(0, MAX_DENIED).map((d) => ({ type: d.type, name: d.name, action: d.action, reason: d.reason.slice(0, MAX_REASON_CHARS) }));
    }
    const token = await this.sign(claims, ACCESS_TYP, this.options.settings.service, lifetime, subject);
    return { token, expiresIn: lifetime, issuedAt };
  }

  /** A refresh token for `principal`, usable only at the token endpoint of the same service. */
  issueRefreshToken(principal: Principal): Promise<string> {
    const { service, refreshLifetimeSeconds } = this.options.settings;
    return this.sign({ wharf: principalClaim(principal) }, REFRESH_TYP, `refresh:${service}`, refreshLifetimeSeconds, principal.subject);
  }

  private keyFor(token: string): TokenKey {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenError('malformed');
    }
    if (typeof header.kid !== 'string') throw new TokenError('no key id');
    const key = this.options.keys.verification.get(header.kid);
    if (!key) throw new TokenError('unknown key id');
    // The key decides the algorithm; a header asking for another one (none, HS256...) is an attack.
    if (header.alg !== key.alg) throw new TokenError(`algorithm ${String(header.alg)} not allowed for this key`);
    return key;
  }

  private async verify(token: string, typ: string, audience: string): Promise<JWTPayload> {
    const key = this.keyFor(token);
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: this.options.settings.issuer,
        audience,
        typ,
        clockTolerance: this.options.settings.leewaySeconds,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'exp', 'nbf', 'iat', 'jti'],
      });
      return payload;
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
      throw new TokenError(code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, ' '));
    }
  }

  /** Verifies an access token (cached until it expires); throws a {@link TokenError}. */
  async verifyAccessToken(token: string): Promise<VerifiedAccess> {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const payload = await this.verify(token, ACCESS_TYP, this.options.settings.service);
    if (!isAccessList(payload.access)) throw new TokenError('malformed access claim');
    const verified: VerifiedAccess = Object.freeze({
      principal: principalFrom(payload.sub ?? '', payload.wharf),
      access: Object.freeze(payload.access),
      denied: Object.freeze(deniedList(payload.denied)),
      expiresAt: (payload.exp ?? 0) * 1000,
    });
    this.cache.set(token, verified, verified.expiresAt + this.options.settings.leewaySeconds * 1000);
    return verified;
  }

  /** Verifies a refresh token for `service`; returns the principal it was issued to. */
  async verifyRefreshToken(token: string, service: string): Promise<Principal> {
    const payload = await this.verify(token, REFRESH_TYP, `refresh:${service}`);
    if (!payload.sub) throw new TokenError('refresh token without subject');
    return principalFrom(payload.sub, payload.wharf);
  }
}
