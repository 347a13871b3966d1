import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarmAction,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { PulseFunction } from './pulse-function.js';

export interface PulseMonitoringProps {
  readonly functions: Readonly<Record<string, PulseFunction>>;
  readonly stateMachine: StateMachine;
  readonly scheduleDlq: IQueue;
  readonly tables: Readonly<Record<string, ITable>>;
  readonly api: HttpApi;
  /** Where alarms notify (e.g. an SNS topic action). Alarms exist either way and show on the dashboard. */
  readonly alarmActions?: readonly IAlarmAction[];
}

const FIVE_MINUTES = Duration.minutes(5);
const SUM_OVER_5_MINUTES = { period: FIVE_MINUTES, statistic: 'Sum' } as const;

/**
 * Alarms for what needs a human (function errors, runs that failed or timed out, schedules that could not start a
 * run, DynamoDB throttling, API 5xx) and one dashboard with the numbers that explain them.
 */
export class PulseMonitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PulseMonitoringProps) {
    super(scope, id);
    const alarm = (alarmId: string, metric: IMetric, description: string, threshold = 1): Alarm => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      for (const action of props.alarmActions ?? []) a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        fn.metricErrors(SUM_OVER_5_MINUTES),
        `Pulse ${name} function: invocations failed in the last 5 minutes. See its log group for the error.`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles(SUM_OVER_5_MINUTES),
        `Pulse ${name} function was throttled (account concurrency exhausted or reserved concurrency reached).`,
        5,
      );
    }

    const sm = props.stateMachine;
    const runAlarms: [string, IMetric, string][] = [
      [
        'RunsFailed',
        sm.metricFailed(SUM_OVER_5_MINUTES),
        'A Pulse scoring run failed. Open the execution in the Step Functions console; re-run with POST /v1/runs.',
      ],
      [
        'RunsTimedOut',
        sm.metricTimedOut(SUM_OVER_5_MINUTES),
        'A Pulse scoring run timed out. Raise maxConcurrency or the timeout; re-run with POST /v1/runs.',
      ],
      [
        'ScheduleDlqDepth',
        props.scheduleDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        'A schedule could not start a scoring run; the message in the DLQ says which model. See docs/operations.md "DLQ replay".',
      ],
    ];
    for (const [alarmId, metric, description] of runAlarms) alarm(alarmId, metric, description);

    const throttleMetrics: Record<string, IMetric> = {};
    for (const [name, table] of Object.entries(props.tables)) {
      const throttles = new MathExpression({
        expression: `FILL(r_${name}, 0) + FILL(w_${name}, 0)`,
        usingMetrics: {
          [`r_${name}`]: table.metric('ReadThrottleEvents', SUM_OVER_5_MINUTES),
          [`w_${name}`]: table.metric('WriteThrottleEvents', SUM_OVER_5_MINUTES),
        },
        label: `${name} throttle events`,
        period: FIVE_MINUTES,
      });
      throttleMetrics[name] = throttles;
      alarm(
        `${name}Throttles`,
        throttles,
        `DynamoDB throttled requests on the Pulse ${name} table (on-demand scales; sustained throttles mean a hot partition or the account limit).`,
        10,
      );
    }

    // Finalise logs "alerts not published" with the count when EventBridge kept refusing entries after retries; the
    // alerts are still stored and served at /v1/alerts, but rules on the bus never saw them.
    const finalise = props.functions.runFinalise;
    if (finalise) {
      const unpublished = new MetricFilter(this, 'UnpublishedAlertsFilter', {
        logGroup: finalise.functionLogGroup,
        filterPattern: FilterPattern.stringValue('$.message', '=', 'alerts not published'),
        metricNamespace: 'Pulse',
        metricName: 'AlertsUnpublished',
        metricValue: '$.failed',
        defaultValue: 0,
      });
      alarm(
        'AlertsUnpublished',
        unpublished.metric(SUM_OVER_5_MINUTES),
        'A run could not publish some alerts to EventBridge after retries. They are stored (GET /v1/alerts); re-publish or re-run.',
      );
    }

    alarm(
      'Api5xx',
      props.api.metricServerError(SUM_OVER_5_MINUTES),
      'The Pulse HTTP API answered 5xx responses (ingest 503 = storage unavailable; clients retry).',
      5,
    );

    const fnMetrics = (pick: (fn: PulseFunction) => Metric): IMetric[] =>
      Object.values(props.functions).map((fn) => pick(fn));

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# Pulse\nIngest and scores API, scoring runs, storage. Alarms: see docs/operations.md for what each one means.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [props.api.metricCount({ period: FIVE_MINUTES })],
        right: [
          props.api.metricClientError({ period: FIVE_MINUTES }),
          props.api.metricServerError({ period: FIVE_MINUTES }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (p50, p99)',
        left: [
          props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
          props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: fnMetrics((fn) => fn.metricErrors(SUM_OVER_5_MINUTES)),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function duration p99',
        left: fnMetrics((fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99' })),
        width: 8,
      }),
      new GraphWidget({
        title: 'Ingested events (Pulse namespace)',
        // The names and the `service` dimension the ingest handler's Powertools metrics are emitted with.
        left: ['EventsAccepted', 'EventsDuplicate', 'EventsRejected'].map(
          (metricName) =>
            new Metric({
              namespace: 'Pulse',
              metricName,
              dimensionsMap: { service: props.functions.ingest?.serviceName ?? 'pulse-ingest' },
              statistic: 'Sum',
              period: FIVE_MINUTES,
            }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Scoring runs',
        left: [
          sm.metricStarted({ period: FIVE_MINUTES }),
          sm.metricSucceeded({ period: FIVE_MINUTES }),
          sm.metricFailed({ period: FIVE_MINUTES }),
          sm.metricTimedOut({ period: FIVE_MINUTES }),
        ],
        width: 8,
      }),
      new GraphWidget({ title: 'DynamoDB throttle events', left: Object.values(throttleMetrics), width: 8 }),
      new SingleValueWidget({
        title: 'Schedule DLQ (messages)',
        metrics: [props.scheduleDlq.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: Object.values(props.tables).map((t) => t.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES })),
        right: Object.values(props.tables).map((t) => t.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES })),
        width: 24,
      }),
    );
  }
}
