import { describe, expect, it } from 'vitest';
import { regionOfApiUrl, requestSigner } from '../../../shared/dashboard/remote-data.js';
import { safeNext, sessionValue, tokenMatches, withoutToken } from '../../../shared/dashboard/session.js';

describe('requestSigner', () => {
  it('signs a GET for API Gateway with SigV4 (service execute-api), query included', async () => {
    // Arrange
    const sign = requestSigner({
      kind: 'sigv4',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
    });
    const url = new URL('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/scores?model=customer&band=at-risk');

    // Act
    const headers = await sign({ method: 'GET', url, headers: { accept: 'application/json' } });
    const again = await sign({ method: 'GET', url: new URL(`${url.href}x`), headers: { accept: 'application/json' } });

    // Assert
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(headers['x-amz-security-token']).toBe('session');
    expect(headers.accept).toBe('application/json');
    // fetch sets Host from the URL; the signature covers the query (another query, another signature).
    expect(headers.host).toBeUndefined();
    expect(again.authorization).not.toBe(headers.authorization);
  });

  it('sends a bearer token for a JWT or a Pulse API token', async () => {
    // Act
    const headers = await requestSigner({ kind: 'bearer', token: 'eyJhbGciOi' })({
      method: 'GET',
      url: new URL('https://api.example.com/v1/models'),
      headers: {},
    });

    // Assert
    expect(headers).toEqual({ authorization: 'Bearer eyJhbGciOi' });
  });

  it('reads the region of an execute-api URL', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod')).toBe('ap-southeast-2');
    expect(regionOfApiUrl('https://api.example.com')).toBeUndefined();
    expect(regionOfApiUrl('not a url')).toBeUndefined();
  });
});

describe('dashboard session helpers', () => {
  it('keeps the token out of the cookie and compares tokens exactly', () => {
    expect(sessionValue('secret-token')).not.toContain('secret-token');
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-toke', 'secret-token')).toBe(false);
  });

  it('redirects only within the site', () => {
    expect(safeNext('/models/customer?band=low')).toBe('/models/customer?band=low');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });

  it('drops the token from the URL and keeps the other parameters', () => {
    expect(withoutToken('http://127.0.0.1:3000/models/a?band=low&token=t&limit=25')).toBe(
      '/models/a?band=low&limit=25',
    );
    expect(withoutToken('http://127.0.0.1:3000/?token=t')).toBe('/');
  });
});
