import { afterEach, describe, expect, it } from 'vitest';
import { slackMessage, WebhookAlertSink } from '../../../shared/adapters/webhook/alert-sink.js';
import { firedAlert } from '../../support/scores.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const alert = (entityId: string) =>
  firedAlert({
    type: 'BandChanged',
    entityType: 'account',
    entityId,
    model: 'customer',
    score: 38.5,
    previousScore: 52,
    previousBand: 'medium',
    reasons: [{ kind: 'signal', name: 'core-use', previousPoints: 20, points: 6.5, delta: -13.5 }],
    topContributions: [{ signal: 'core-use', value: 2, points: 6.5 }],
  });

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

/** A started receiver answering each request with the next of `statuses` (the last one repeats), stopped after. */
async function receiver(statuses: number[]): Promise<WebhookReceiver> {
  const started = await new WebhookReceiver(statuses).start();
  receivers.push(started);
  return started;
}

const noSleep = async () => {};

describe('WebhookAlertSink', () => {
  it('POSTs each alert as the EventBridge event fields, reasons included', async () => {
    // Arrange
    const hook = await receiver([200]);
    const sink = new WebhookAlertSink({ url: hook.url, sleep: noSleep });

    // Act
    const result = await sink.publish([alert('a1'), alert('a2')]);

    // Assert
    expect(result).toEqual({ published: 2, failed: 0 });
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[0]).toMatchObject({
      source: 'pulse',
      'detail-type': 'BandChanged',
      detail: {
        entity: { type: 'account', id: 'a1' },
        model: 'customer',
        score: 38.5,
        previous: 52,
        bands: { current: 'low', previous: 'medium' },
        reasons: [{ kind: 'signal', name: 'core-use', delta: -13.5 }],
      },
    });
  });

  it('retries a 500 with backoff and counts the alert published once it is taken', async () => {
    // Arrange
    const hook = await receiver([500, 503, 200]);
    const delays: number[] = [];
    const sink = new WebhookAlertSink({ url: hook.url, sleep: async (ms) => void delays.push(ms) });

    // Act
    const result = await sink.publish([alert('a1')]);

    // Assert
    expect(result).toEqual({ published: 1, failed: 0 });
    expect(hook.bodies).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(delays[0]! / 2);
  });

  it('reports failures without throwing or naming the URL, and stops trying a receiver that keeps failing', async () => {
    // Arrange
    const hook = await receiver([500]);
    const sink = new WebhookAlertSink({ url: hook.url, sleep: noSleep, maxAttempts: 2, giveUpAfter: 2 });

    // Act
    const result = await sink.publish([alert('a1'), alert('a2'), alert('a3'), alert('a4')]);

    // Assert
    expect(result.published).toBe(0);
    expect(result.failed).toBe(4);
    expect(hook.bodies).toHaveLength(4); // 2 alerts × 2 attempts, then the rest skipped
    expect(result.errors).toContain('webhook answered HTTP 500');
    expect(JSON.stringify(result.errors)).not.toContain('127.0.0.1');
  });

  it('does not retry a 400 (the receiver refused the body)', async () => {
    // Arrange
    const hook = await receiver([400]);
    const sink = new WebhookAlertSink({ url: hook.url, sleep: noSleep });

    // Act
    const result = await sink.publish([alert('a1')]);

    // Assert
    expect(result).toMatchObject({ published: 0, failed: 1, errors: ['webhook answered HTTP 400'] });
    expect(hook.bodies).toHaveLength(1);
  });

  it('reports an unreachable receiver as a failure', async () => {
    // Arrange: a port nobody listens on (a closed server's).
    const hook = await receiver([200]);
    await hook.stop();
    const sink = new WebhookAlertSink({ url: hook.url, sleep: noSleep, maxAttempts: 2 });

    // Act
    const result = await sink.publish([alert('a1')]);

    // Assert
    expect(result.failed).toBe(1);
    expect(result.errors?.[0]).toMatch(/^webhook unreachable/);
  });
});

describe('slackMessage', () => {
  it('gives Slack a text headline and blocks with the reasons, escaping entity ids', () => {
    // Act
    const message = slackMessage({ ...alert('<acme & co>') });

    // Assert
    expect(message.text).toBe(
      'Band changed: account &lt;acme &amp; co&gt; on customer 52 → 38.5 (-13.5), band medium → low',
    );
    expect(JSON.stringify(message.blocks)).toContain('`core-use` -13.5 points');
  });
});
