// @ts-check
/**
 * Sign-in with the deployment's OpenID provider: the authorization code flow with PKCE
 * (RFC 6749 section 4.1, RFC 7636 S256), a `state` and an ID token `nonce`, through oauth4webapi.
 *
 * The console is a public client: it has no secret, PKCE binds the code to this tab. Only the
 * one-time values of a sign-in in progress are kept in `sessionStorage` (this tab, until the
 * provider redirects back); the access token lives in memory only, so a reload or a closed tab
 * ends the session, and nothing is ever written to `localStorage`.
 */

import * as oauth from "/vendor/oauth4webapi/index.js";

const PENDING_SIGN_IN = "devicekeys-console.pending-sign-in";

/**
 * @typedef {object} Session
 * @property {string} accessToken sent to the API as `Authorization: Bearer`
 * @property {number | null} expiresAt epoch milliseconds, from `expires_in`
 * @property {string[]} scopes what the provider granted
 * @property {string} subject the ID token's `sub`: the user the API knows
 * @property {string} userName how to show who is signed in
 */

/**
 * @typedef {object} PendingSignIn
 * @property {string} codeVerifier
 * @property {string} state
 * @property {string} nonce
 * @property {string} returnTo the console's hash route to come back to
 */

/** The provider refused or the response failed a check; `message` says which, for people. */
export class SignInError extends Error {}

export class OidcSignIn {
  /** @type {oauth.Client} */
  #client;
  #issuer;
  #scopes;
  #redirectUri;
  /** @type {Promise<oauth.AuthorizationServer> | null} */
  #authorizationServer = null;
  /** @type {{ [oauth.allowInsecureRequests]?: boolean }} */
  #httpOptions;

  /**
   * @param {{ issuer: URL, clientId: string, scopes: string[], redirectUri: string }} settings
   *   `redirectUri`: the console's own URL, registered with the provider
   */
  constructor({ issuer, clientId, scopes, redirectUri }) {
    this.#client = { client_id: clientId };
    this.#issuer = issuer;
    this.#scopes = scopes;
    this.#redirectUri = redirectUri;
    // oauth4webapi refuses plain http; the local API's development issuer is http on loopback only.
    this.#httpOptions = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" && isLoopback(issuer.hostname) };
  }

  /**
   * Whether `url` is the provider's answer to a sign-in (a code, or an error).
   * @param {URL} url
   */
  static isResponse(url) {
    return url.searchParams.has("code") || url.searchParams.has("error");
  }

  /**
   * Send the browser to the provider's authorization endpoint.
   * @param {string} returnTo the hash route to show once signed in
   * @returns {Promise<never>}
   */
  async start(returnTo) {
    const as = await this.#discover();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    /** @type {PendingSignIn} */
    const pending = { codeVerifier, state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), returnTo };
    sessionStorage.setItem(PENDING_SIGN_IN, JSON.stringify(pending));

    const url = new URL(/** @type {string} */ (as.authorization_endpoint));
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: this.#client.client_id,
      redirect_uri: this.#redirectUri,
      scope: this.#scopes.join(" "),
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state: pending.state,
      nonce: pending.nonce,
    }).toString();
    window.location.assign(url);
    return new Promise(() => {}); // the page is leaving
  }

  /**
   * Finish the sign-in the provider redirected back from: check the response, redeem the code.
   * @param {URL} url the page's URL, holding the provider's response
   * @returns {Promise<{ session: Session, returnTo: string }>}
   * @throws {SignInError}
   */
  async complete(url) {
    const stored = sessionStorage.getItem(PENDING_SIGN_IN);
    sessionStorage.removeItem(PENDING_SIGN_IN); // one attempt per sign-in, whatever happens
    if (stored === null) throw new SignInError("this tab did not start a sign-in (or it was completed already)");
    /** @type {PendingSignIn} */
    const pending = JSON.parse(stored);
    try {
      const as = await this.#discover();
      // state, iss (RFC 9207) and error responses are checked here.
      const parameters = oauth.validateAuthResponse(as, this.#client, url, pending.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.#client,
        oauth.None(),
        parameters,
        this.#redirectUri,
        pending.codeVerifier,
        this.#httpOptions,
      );
      const result = await oauth.processAuthorizationCodeResponse(as, this.#client, response, {
        expectedNonce: pending.nonce,
        requireIdToken: true,
      });
      const claims = /** @type {oauth.IDToken} */ (oauth.getValidatedIdTokenClaims(result));
      const session = {
        accessToken: result.access_token,
        expiresAt: result.expires_in === undefined ? null : Date.now() + result.expires_in * 1000,
        // Without `scope` in the answer, the scopes granted are those asked for (RFC 6749, section 5.1).
        scopes: result.scope === undefined ? this.#scopes : result.scope.split(" ").filter(Boolean),
        subject: claims.sub,
        userName: displayName(claims),
      };
      return { session, returnTo: pending.returnTo };
    } catch (error) {
      throw new SignInError(describe(error), { cause: error });
    }
  }

  /** @returns {Promise<oauth.AuthorizationServer>} the provider's metadata, fetched once */
  #discover() {
    this.#authorizationServer ??= oauth
      .discoveryRequest(this.#issuer, { algorithm: "oidc", ...this.#httpOptions })
      .then((response) => oauth.processDiscoveryResponse(this.#issuer, response))
      .catch((error) => {
        this.#authorizationServer = null; // try again next time
        throw new SignInError(`the sign-in provider ${this.#issuer} cannot be reached: ${describe(error)}`, {
          cause: error,
        });
      });
    return this.#authorizationServer;
  }
}

/** @param {string} hostname */
function isLoopback(hostname) {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** @param {oauth.IDToken} claims */
function displayName(claims) {
  for (const name of ["preferred_username", "email", "cognito:username"]) {
    if (typeof claims[name] === "string" && claims[name]) return /** @type {string} */ (claims[name]);
  }
  return claims.sub;
}

/**
 * What went wrong, for people: the provider's own description when it sent one.
 * @param {unknown} error
 */
function describe(error) {
  if (error instanceof oauth.AuthorizationResponseError) {
    return error.error === "access_denied" ? "the sign-in was cancelled" : (error.error_description ?? error.error);
  }
  if (error instanceof oauth.ResponseBodyError) return error.error_description ?? error.error;
  if (error instanceof SignInError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
