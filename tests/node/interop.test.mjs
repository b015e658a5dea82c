// The development tenant driven by Auth0's own Node SDK (the npm package "auth0") and by
// jose. Neither was written here: if the tenant drifts from Auth0's wire contract, this
// fails. internal/devtenant/nodeinterop_test.go starts the tenant and runs this file.
//
// node-auth0 v4 always builds https://{domain} (its baseUrl option is overwritten, and its
// ID token validator expects the issuer https://{domain}/). So the Go test serves the
// tenant over TLS with the issuer https://127.0.0.1:PORT/, and gives node its test
// certificate through NODE_EXTRA_CA_CERTS. The SDK is then configured as for a real
// tenant: a bare domain, no transport override.
//
// Environment: DEVTENANT_URL, the tenant's https base URL without trailing slash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthenticationClient, ManagementClient, ManagementApiError } from 'auth0';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';

const url = process.env.DEVTENANT_URL;
if (!url || !url.startsWith('https://')) {
  throw new Error(`DEVTENANT_URL must be the tenant's https URL (node-auth0 v4 speaks only https), got ${JSON.stringify(url)}`);
}
const domain = new URL(url).host; // 127.0.0.1:PORT, as one would write my-tenant.eu.auth0.com
const clientId = 'linkbff-dev-client';
const clientSecret = 'linkbff-dev-secret-do-not-use-in-production';

const auth = new AuthenticationClient({ domain, clientId, clientSecret });
// Without token: the SDK fetches its own Management API token (client credentials, default
// audience https://{domain}/api/v2/) and caches it.
const management = new ManagementClient({ domain, clientId, clientSecret });

// rejectsWithStatus expects promise to reject with the SDK's ManagementApiError.
async function rejectsWithStatus(promise, statusCode) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ManagementApiError, `want ManagementApiError, got ${err}`);
    assert.equal(err.statusCode, statusCode, err.message);
    return true;
  });
}

// The tests share the tenant, so they run in this order (node:test runs a file's tests one
// after another).

test('client credentials grant returns a Management API token', async () => {
  const { data } = await auth.oauth.clientCredentialsGrant({ audience: `${url}/api/v2/` });
  assert.equal(data.token_type, 'Bearer');
  assert.ok(data.expires_in > 0);
  const claims = decodeJwt(data.access_token);
  assert.equal(claims.aud, `${url}/api/v2/`);
  assert.match(claims.scope, /\bread:users\b/);
});

test('users.get returns the seeded user', async () => {
  const { data, status } = await management.users.get({ id: 'auth0|alice' });
  assert.equal(status, 200);
  assert.equal(data.user_id, 'auth0|alice');
  assert.equal(data.email, 'alice@example.com');
  assert.deepEqual(data.identities.map((i) => `${i.provider}|${i.user_id}`), ['auth0|alice']);
});

test('users.update merges user_metadata', async () => {
  const { data } = await management.users.update({ id: 'auth0|alice' }, { user_metadata: { locale: 'fr', via: 'node-auth0' } });
  assert.deepEqual(data.user_metadata, { theme: 'dark', locale: 'fr', via: 'node-auth0' });
});

test('users.link returns the identities, the linked one included', async () => {
  const { data, status } = await management.users.link({ id: 'auth0|alice' }, { provider: 'github', user_id: '4242' });
  assert.equal(status, 201);
  assert.deepEqual(data.map((i) => `${i.provider}|${i.user_id}`), ['auth0|alice', 'github|4242']);
  assert.equal(data[1].profileData?.email, 'alice@users.noreply.example');
});

test('linking the same identity again is a 409 the SDK reports', async () => {
  await rejectsWithStatus(management.users.link({ id: 'auth0|alice' }, { provider: 'github', user_id: '4242' }), 409);
});

test('users.unlink returns the remaining identities', async () => {
  const { data } = await management.users.unlink({ id: 'auth0|alice', provider: 'github', user_id: '4242' });
  assert.deepEqual(data.map((i) => `${i.provider}|${i.user_id}`), ['auth0|alice']);
});

test('users.get of a missing user rejects with statusCode 404', async () => {
  await rejectsWithStatus(management.users.get({ id: 'auth0|nobody' }), 404);
});

test('password-realm grant returns an ID token that jose verifies against the JWKS', async () => {
  // The SDK validates the ID token itself (issuer, audience, RS256 signature against the
  // tenant's JWKS) before it resolves.
  const { data } = await auth.oauth.passwordGrant({
    username: 'alice@example.com',
    password: 'alice-password',
    realm: 'Username-Password-Authentication',
    scope: 'openid profile email',
  });
  assert.ok(data.id_token, 'no id_token');

  const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
  const { payload, protectedHeader } = await jwtVerify(data.id_token, jwks, { issuer: `${url}/`, audience: clientId });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload.sub, 'auth0|alice');
  assert.equal(payload.email, 'alice@example.com');

  // The same token with one claim changed no longer verifies.
  const [header, body, signature] = data.id_token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...payload, sub: 'auth0|bob' })).toString('base64url');
  assert.notEqual(forged, body);
  await assert.rejects(jwtVerify(`${header}.${forged}.${signature}`, jwks, { issuer: `${url}/`, audience: clientId }),
    errors.JWSSignatureVerificationFailed);
});
