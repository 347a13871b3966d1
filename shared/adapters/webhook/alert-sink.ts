import type { FiredAlert } from '../../domain/engine/types.js';
import type { AlertSink, PublishResult } from '../../ports/alert-sink.js';
import { type AlertDetail, alertDetail } from '../eventbridge/alert-sink.js';

export interface WebhookAlertSinkOptions {
  /** Where each alert is POSTed. Treated as a secret (a Slack webhook URL is a credential): never logged. */
  url: string;
  /** Attempts per alert (default 4): network errors, 408, 429 and 5xx are retried with backoff. */
  maxAttempts?: number | undefined;
  /** First backoff (default 250 ms), doubled each attempt, with jitter. */
  baseDelayMs?: number | undefined;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number | undefined;
  /** After this many alerts in a row failed every attempt, the rest of the batch is not tried (default 3). */
  giveUpAfter?: number | undefined;
  fetch?: typeof fetch | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** The body POSTed for one alert: the EventBridge event's fields, so one receiver handles both (docs/api.md#alerts). */
export interface WebhookAlertBody {
  source: 'pulse';
  'detail-type': FiredAlert['type'];
  time: string;
  detail: AlertDetail;
}

/** A Slack incoming webhook takes a message (`text`, `blocks`), not arbitrary JSON. */
export function isSlackWebhook(url: string): boolean {
  try {
    return new URL(url).hostname === 'hooks.slack.com';
  } catch {
    return false;
  }
}

/**
 * Alerts delivered by HTTP POST, one request per alert, in order. Failures are retried with exponential backoff
 * and then reported (counted, with a short reason) rather than thrown: a receiver that is down never fails a run
 * (docs/local-mode.md#alert-webhook). Delivery is at least once: a re-run posts its alerts again.
 */
export class WebhookAlertSink implements AlertSink {
  private readonly slack: boolean;

  constructor(private readonly options: WebhookAlertSinkOptions) {
    this.slack = isSlackWebhook(options.url);
  }

  async publish(alerts: readonly FiredAlert[]): Promise<PublishResult> {
    const errors = new Set<string>();
    let published = 0;
    let failed = 0;
    let failedInARow = 0;
    const giveUpAfter = this.options.giveUpAfter ?? 3;
    for (const alert of alerts) {
      if (failedInARow >= giveUpAfter) {
        failed++;
        errors.add(`not sent: the receiver failed ${giveUpAfter} alerts in a row`);
        continue;
      }
      const error = await this.deliver(this.slack ? slackMessage(alert) : webhookBody(alert));
      if (error === null) {
        published++;
        failedInARow = 0;
      } else {
        failed++;
        failedInARow++;
        errors.add(error);
      }
    }
    return { published, failed, ...(errors.size > 0 ? { errors: [...errors] } : {}) };
  }

  /** POST one body until it is taken; returns null, or why it was not (without the URL). */
  private async deliver(body: unknown): Promise<string | null> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const send = this.options.fetch ?? fetch;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const payload = JSON.stringify(body);
    let reason = 'not sent';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let retryable = true;
      try {
        const response = await send(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'pulse-alerts' },
          body: payload,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
        });
        // Drain the body so the connection is reused.
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) return null;
        reason = `webhook answered HTTP ${response.status}`;
        retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      } catch (error) {
        reason = `webhook unreachable: ${error instanceof Error ? error.name : 'error'}`;
      }
      if (!retryable || attempt === maxAttempts) break;
      const base = (this.options.baseDelayMs ?? 250) * 2 ** (attempt - 1);
      await sleep(base / 2 + Math.random() * (base / 2));
    }
    return reason;
  }
}

export function webhookBody(alert: FiredAlert): WebhookAlertBody {
  return { source: 'pulse', 'detail-type': alert.type, time: alert.asOf, detail: alertDetail(alert) };
}

const HEADLINE: Record<FiredAlert['type'], string> = {
  ScoreDropped: 'Score dropped',
  ScoreSpiked: 'Score spiked',
  BandChanged: 'Band changed',
};

/** One alert as a Slack message: a headline in `text` (notifications) and the same with reasons in `blocks`. */
export function slackMessage(alert: FiredAlert): { text: string; blocks: unknown[] } {
  const delta = alert.previousScore === null ? '' : ` (${signed(alert.score - alert.previousScore)})`;
  const band =
    alert.previousBand !== null && alert.previousBand !== alert.band
      ? `${alert.previousBand} → ${alert.band}`
      : alert.band;
  const text =
    `${HEADLINE[alert.type]}: ${alert.entityType} ${alert.entityId} on ${alert.model} ` +
    `${alert.previousScore ?? '–'} → ${alert.score}${delta}, band ${band}`;
  const reasons = alert.reasons.map((r) => `• ${r.kind} \`${r.name}\` ${signed(r.delta)} points`).join('\n');
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(text) } }];
  if (reasons) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Why*\n${escapeSlack(reasons)}` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `as of ${alert.asOf}` }] });
  return { text: escapeSlack(text), blocks };
}

function signed(n: number): string {
  const rounded = Math.round(n * 100) / 100;
  return rounded > 0 ? `+${rounded}` : String(rounded);
}

/** Slack's mrkdwn control characters (entity ids are user data). */
function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
