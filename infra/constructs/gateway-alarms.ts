/**
 * Alarms on what pages an operator: the 5xx rate, p99 latency, Lambda
 * throttles, a flood of refused keys and, with key management, a key nearing
 * its budget, with an optional SNS topic (and e-mail subscription) that every
 * one of them notifies.
 */
import { Duration, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import type { GatewayMetrics } from "./gateway-metrics.ts";

/** Thresholds and notification of the alarms. */
export interface GatewayAlarmsProps {
  readonly metrics: GatewayMetrics;
  readonly function: IFunction;
  /** Alarm when more than this percentage of requests end in a 5xx over 5 minutes. */
  readonly serverErrorRatePercent: number;
  /** Alarm when p99 latency stays above this many ms for 3 periods of 5 minutes. */
  readonly p99LatencyMs: number;
  /** Alarm when more than this many requests are refused with 401/403 in 5 minutes. */
  readonly authFailuresPerFiveMinutes: number;
  /** Create an SNS topic for the alarms (implied by an e-mail address). */
  readonly createTopic: boolean;
  /** Subscribe this address to the topic. */
  readonly email?: string;
  /** Alarm when a gateway key has spent this share (%) of a USD budget; no alarm without it. */
  readonly budgetPercent?: number;
}

/** The gateway's alarms. */
export class GatewayAlarms extends Construct {
  readonly serverErrorRate: Alarm;
  readonly p99Latency: Alarm;
  readonly throttles: Alarm;
  readonly authFailures: Alarm;
  /** A key passed its share of a budget (with key management). */
  readonly budget?: Alarm;
  /** Every alarm above: the topic, when there is one, is told of each. */
  readonly all: readonly Alarm[];
  readonly topic?: Topic;

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    this.serverErrorRate = new Alarm(this, "ServerErrorRate", {
      alarmDescription: `More than ${props.serverErrorRatePercent}% of gateway requests answered 5xx or broke off mid-stream.`,
      metric: props.metrics.rate(["serverErrors"], "5xx rate (%)", period),
      threshold: props.serverErrorRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.p99Latency = new Alarm(this, "P99Latency", {
      alarmDescription: `Gateway p99 latency above ${props.p99LatencyMs} ms.`,
      metric: props.metrics.total("latency", Stats.p(99), period),
      threshold: props.p99LatencyMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.throttles = new Alarm(this, "Throttles", {
      alarmDescription:
        "The gateway function is being throttled (callers get 429): traffic reached its reserved concurrency or the account limit. Raise gateway:reservedConcurrency if the traffic is genuine.",
      metric: props.function.metricThrottles({ statistic: "Sum", period: Duration.minutes(1) }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.authFailures = new Alarm(this, "AuthFailures", {
      alarmDescription: `More than ${props.authFailuresPerFiveMinutes} requests refused with 401/403 in 5 minutes: a leaked or revoked key still in use, or someone trying keys. Each refusal is a billed Lambda invocation.`,
      metric: props.metrics.total("authFailures", "Sum", period),
      threshold: props.authFailuresPerFiveMinutes,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (props.budgetPercent !== undefined) {
      // The total set's Maximum is the fullest budget of any key; the dashboard's budget graph says which key.
      this.budget = new Alarm(this, "KeyBudget", {
        alarmDescription: `A gateway key has spent ${props.budgetPercent}% or more of a USD budget (see "Budget used by key" on the dashboard).`,
        metric: props.metrics.total("budgetUsed", "Maximum", period),
        threshold: props.budgetPercent,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    this.all = [this.serverErrorRate, this.p99Latency, this.throttles, this.authFailures, ...(this.budget === undefined ? [] : [this.budget])];
    if (props.createTopic || props.email !== undefined) {
      this.topic = new Topic(this, "Topic", { displayName: "AI gateway alarms", enforceSSL: true });
      Validations.of(this.topic).acknowledge({
        id: "AwsSolutions-SNS2",
        reason:
          "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and alarm notifications carry no sensitive data.",
      });
      if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
      const action = new SnsAction(this.topic);
      for (const alarm of this.all) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
