import { describe, expect, it } from 'vitest';
import { drainGate } from '../../../shared/local/server.js';

describe('the local server while it stops', () => {
  it('passes requests until draining starts, then answers 503 problem+json with Retry-After and closes the connection', async () => {
    // Arrange
    let passed = 0;
    const gate = drainGate(() => {
      passed++;
      return new Response('ok');
    });

    // Act
    const before = await gate.fetch(new Request('http://pulse.local/healthz'));
    gate.startDraining();
    const during = await gate.fetch(new Request('http://pulse.local/v1/events', { method: 'POST', body: '{}' }));

    // Assert
    expect(before.status).toBe(200);
    expect(passed).toBe(1);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    expect(during.headers.get('connection')).toBe('close');
    expect(during.headers.get('content-type')).toBe('application/problem+json');
    expect(await during.json()).toMatchObject({ type: 'urn:pulse:problem:stopping', status: 503 });
    expect(gate.refused()).toBe(1);
  });
});
