import { Duration, SecretValue } from 'aws-cdk-lib';
import {
  ApiDestination,
  Authorization,
  Connection,
  EventField,
  HttpMethod,
  type IEventBus,
  Rule,
  RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget } from 'aws-cdk-lib/aws-events-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { isSlackWebhook } from '../../shared/adapters/webhook/alert-sink.js';
import { acknowledge } from './nag.js';

export interface AlertWebhookProps {
  readonly bus: IEventBus;
  /** HTTPS endpoint every alert is POSTed to. A Slack incoming webhook gets a Slack message (`text`). */
  readonly url: string;
  /**
   * Name of a Secrets Manager secret whose value is sent in `headerName` on every call. CloudFormation resolves it
   * at deploy time into the EventBridge connection, which keeps it in its own secret: the template holds only the
   * reference. Without it the connection sends a fixed, non-secret `x-pulse-source: pulse` header (EventBridge
   * connections need some authorization; Slack webhooks carry theirs in the URL).
   */
  readonly secretName?: string;
  /** @default x-api-key */
  readonly headerName?: string;
  /** Alert types to deliver. @default all three */
  readonly detailTypes?: readonly string[];
  /** Calls per second at most. @default 5 */
  readonly rateLimitPerSecond?: number;
}

/**
 * Alert delivery in AWS (docs/deploy.md#alert-webhook): an EventBridge rule on the alert bus, an API destination
 * and its connection; deliveries EventBridge gives up on (24 h of retries) land in a dead-letter queue.
 */
export class AlertWebhook extends Construct {
  readonly connection: Connection;
  readonly destination: ApiDestination;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: AlertWebhookProps) {
    super(scope, id);
    if (!/^https:\/\//.test(props.url)) throw new Error('the alert webhook URL must start with https://');
    this.connection = new Connection(this, 'Connection', {
      description: 'Pulse alert webhook',
      authorization: props.secretName
        ? Authorization.apiKey(props.headerName ?? 'x-api-key', SecretValue.secretsManager(props.secretName))
        : // Not a secret: a marker header, because a connection cannot be created without authorization.
          Authorization.apiKey('x-pulse-source', SecretValue.unsafePlainText('pulse')),
    });
    this.destination = new ApiDestination(this, 'Destination', {
      connection: this.connection,
      endpoint: props.url,
      httpMethod: HttpMethod.POST,
      rateLimitPerSecond: props.rateLimitPerSecond ?? 5,
      description: 'Pulse alerts',
    });
    this.deadLetterQueue = new Queue(this, 'Dlq', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the alert webhook; undelivered alerts wait here for a replay.',
    );
    this.rule = new Rule(this, 'Rule', {
      eventBus: props.bus,
      description: 'Pulse alerts to the webhook',
      eventPattern: {
        source: ['pulse'],
        detailType: [...(props.detailTypes ?? ['ScoreDropped', 'ScoreSpiked', 'BandChanged'])],
      },
      targets: [
        new ApiDestinationTarget(this.destination, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          // Other receivers get the whole EventBridge event (the local webhook body's fields and more).
          event: isSlackWebhook(props.url) ? slackInput() : undefined,
        }),
      ],
    });
  }
}

/** A Slack message: input transformers cannot format arrays, so the reasons stay in /v1/alerts and the API. */
function slackInput(): RuleTargetInput {
  return RuleTargetInput.fromObject({
    text:
      `${EventField.detailType}: ${EventField.fromPath('$.detail.entity.type')} ` +
      `${EventField.fromPath('$.detail.entity.id')} on ${EventField.fromPath('$.detail.model')} ` +
      `${EventField.fromPath('$.detail.previous')} → ${EventField.fromPath('$.detail.score')}, ` +
      `band ${EventField.fromPath('$.detail.bands.previous')} → ${EventField.fromPath('$.detail.bands.current')}`,
  });
}
