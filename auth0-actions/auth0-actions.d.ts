/**
 * Types shim for `@auth0/actions/post-login/v3`, Auth0's official Action types.
 *
 * `@auth0/actions` cannot be installed from the npm registry this project uses (it answers 404), so
 * this ambient module declares the subset of `Event` and `PostLoginAPI` that the Post-Login Action
 * and its tests use, with the shapes of the official definitions (auth0/auth0-actions,
 * src/post-login/v3/index.d.ts). The Action imports its types from the real module name, so this
 * file can be deleted as soon as the package is installable, with no change to the Action's source.
 */
declare module "@auth0/actions/post-login/v3" {
  /** Secret values bound to the Action (Dashboard or auth0-deploy-cli `secrets`). */
  interface Secrets {
    [secretName: string]: string;
  }

  /** One identity linked to the user (a connection's view of them). */
  type Identity = {
    connection?: string;
    isSocial?: boolean;
    profileData?: { [key: string]: string };
    provider?: string;
    user_id?: string;
  } & { [key: string]: unknown };

  /** The user signing in. Optional fields are absent for some connections (SMS, some social). */
  type User = {
    app_metadata: { [key: string]: unknown };
    created_at: string;
    email?: string;
    email_verified: boolean;
    family_name?: string;
    given_name?: string;
    identities: Identity[];
    last_password_reset?: string;
    name?: string;
    nickname?: string;
    phone_number?: string;
    phone_verified?: boolean;
    picture?: string;
    updated_at: string;
    user_id: string;
    user_metadata: { [key: string]: unknown };
    username?: string;
    multifactor?: string[];
  } & { [key: string]: unknown };

  /** The Organization of the transaction, when the user signs in through one. */
  type Organization = {
    id: string;
    display_name: string;
    metadata: { [key: string]: string };
    name: string;
  } & { [key: string]: unknown };

  /** The post-login v3 event (subset). */
  interface Event {
    authorization?: {
      /** The user's role names; for an Organization login, that Organization's member roles. */
      roles: string[];
    };
    client: {
      client_id: string;
      metadata: { [key: string]: string };
      name: string;
    };
    connection: {
      id: string;
      metadata?: { [key: string]: string };
      name: string;
      strategy: string;
    };
    custom_domain?: {
      domain: string;
      domain_metadata: { [key: string]: string };
    };
    organization?: Organization;
    request: {
      asn?: string;
      body: { [key: string]: unknown };
      geoip: {
        cityName?: string;
        continentCode?: string;
        countryCode?: string;
        countryCode3?: string;
        countryName?: string;
        latitude?: number;
        longitude?: number;
        subdivisionCode?: string;
        subdivisionName?: string;
        timeZone?: string;
      } & { [key: string]: unknown };
      /** The domain used for this login: the canonical tenant domain or a custom domain. */
      hostname?: string;
      ip: string;
      language?: string;
      method: string;
      query: { [key: string]: unknown };
      user_agent?: string;
    };
    resource_server?: { identifier: string };
    stats: { logins_count: number };
    tenant: { id: string };
    transaction?: {
      id?: string;
      locale?: string;
      protocol?: string;
      redirect_uri?: string;
      requested_scopes?: string[];
      metadata: { [key: string]: string | number | boolean };
    } & { [key: string]: unknown };
    user: User;
    readonly secrets: Secrets;
    readonly configuration: Record<string, never>;
  }

  interface CacheRecord {
    value: string;
    /** Expiry, ms since the epoch. */
    expires_at: number;
  }

  type CacheWriteResult =
    { type: "success"; record: CacheRecord } | { type: "error"; code: string };

  /** Methods that change the login flow (subset). */
  interface PostLoginAPI {
    readonly access: {
      /** Denies the login; `reason` may be shown to the user. */
      deny(reason: string): PostLoginAPI;
    };
    readonly accessToken: {
      setCustomClaim(key: string, value: unknown): PostLoginAPI;
      addScope(scope: string): void;
      removeScope(scope: string): void;
    };
    readonly idToken: {
      setCustomClaim(key: string, value: unknown): PostLoginAPI;
    };
    readonly user: {
      setAppMetadata(key: string, value: unknown): PostLoginAPI;
      setUserMetadata(key: string, value: unknown): PostLoginAPI;
    };
    readonly cache: {
      get(key: string): CacheRecord | undefined;
      set(
        key: string,
        value: string,
        options?: { ttl?: number; expires_at?: number },
      ): CacheWriteResult;
      delete(key: string): { type: "success" } | { type: "error"; code: string };
    };
  }

  /** The shape of `exports.onExecutePostLogin`. */
  interface PostLoginAction {
    (event: Event, api: PostLoginAPI): Promise<void>;
  }

  export type { Event, PostLoginAPI, PostLoginAction, Secrets };
}
