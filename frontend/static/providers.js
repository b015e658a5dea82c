// How each kind of login is called and drawn. Auth0 names the kind in an identity's
// `provider`; one this page does not know shows its connection name and a plain icon.

const known = {
  auth0: { name: 'Email and password', icon: 'auth0' },
  'google-oauth2': { name: 'Google', icon: 'google-oauth2' },
  github: { name: 'GitHub', icon: 'github' },
  facebook: { name: 'Facebook', icon: 'generic' },
  apple: { name: 'Apple', icon: 'generic' },
  windowslive: { name: 'Microsoft', icon: 'generic' },
  linkedin: { name: 'LinkedIn', icon: 'generic' },
  twitter: { name: 'X (Twitter)', icon: 'generic' },
  email: { name: 'Email code', icon: 'auth0' },
  sms: { name: 'Text message', icon: 'generic' },
};

// provider returns {name, icon} for an identity, icon being the URL of a local SVG.
export function provider(identity) {
  const p = known[identity.provider] || { name: identity.connection || identity.provider, icon: 'generic' };
  return { name: p.name, icon: `/icons/${p.icon}.svg` };
}
