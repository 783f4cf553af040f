// @ts-check
/**
 * The demo's sign-in: a user name in, an access token for the devicekeys API out.
 *
 * It asks the local API's development issuer (`POST /_local/token`), which mints a token for any
 * user name and answers loopback clients only: nothing checks a password here. A real app signs
 * the user in with its identity provider (OIDC's authorization code flow with PKCE, against
 * Cognito or any provider the API's JWT authorizer trusts) and uses the access token it gets.
 * Only this module changes.
 */

/**
 * @param {string} userName
 * @returns {Promise<{ userId: string, accessToken: string }>} `userId` is the token's `sub`
 */
export async function signIn(userName) {
  const response = await fetch("/_local/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub: userName }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok || typeof answer.access_token !== "string") {
    throw new Error(`The sign-in failed: ${answer.message ?? `HTTP ${response.status}`}.`);
  }
  return { userId: userName, accessToken: answer.access_token };
}
