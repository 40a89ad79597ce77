import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { readGatewaySettings } from "../../infra/settings.ts";
import { nagViolations, synth } from "./synth.ts";

const settingsWith = (key: string, value: unknown) => readGatewaySettings((name) => (name === key ? value : undefined));

describe("reserved concurrency", () => {
  it("reserves 100 concurrent executions by default", () => {
    synth().template.hasResourceProperties("AWS::Lambda::Function", { Runtime: "nodejs24.x", ReservedConcurrentExecutions: 100 });
  });

  it("takes gateway:reservedConcurrency from the context, as a number or a -c string", () => {
    synth({ "gateway:reservedConcurrency": 25 }).template.hasResourceProperties("AWS::Lambda::Function", { ReservedConcurrentExecutions: 25 });
    expect(settingsWith("gateway:reservedConcurrency", "300").reservedConcurrency).toBe(300);
  });

  it("leaves the function unreserved only when told false", () => {
    synth({ "gateway:reservedConcurrency": false }).template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      ReservedConcurrentExecutions: Match.absent(),
    });
    expect(settingsWith("gateway:reservedConcurrency", "false").reservedConcurrency).toBe(false);
  });

  it.each([
    [0, /reservedConcurrency = 0 would refuse every request; use false/],
    ["0", /reservedConcurrency = 0 would refuse every request; use false/],
    [true, /reservedConcurrency must be an integer from 1 to 100000, or false/],
    [-1, /reservedConcurrency must be an integer from 1 to 100000, or false/],
    [2.5, /reservedConcurrency must be an integer/],
    ["lots", /reservedConcurrency must be an integer/],
  ])("refuses gateway:reservedConcurrency = %j", (value, message) => {
    expect(() => settingsWith("gateway:reservedConcurrency", value)).toThrow(message);
  });
});

describe("the alarm on refused keys", () => {
  it("fires on more than 100 AuthFailures (gateway 401/403) in 5 minutes by default", () => {
    synth().template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: { Namespace: "AiGateway", MetricName: "AuthFailures", Dimensions: [{ Name: "service", Value: "ai-gateway" }] },
            Period: 300,
            Stat: "Sum",
          },
        }),
      ],
      Threshold: 100,
      ComparisonOperator: "GreaterThanThreshold",
      EvaluationPeriods: 1,
      TreatMissingData: "notBreaching",
    });
  });

  it("takes its threshold from gateway:alarmAuthFailuresPerFiveMinutes", () => {
    synth({ "gateway:alarmAuthFailuresPerFiveMinutes": 2500 }).template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: "AuthFailures" }) }) })],
      Threshold: 2500,
    });
  });

  it.each([0, -3, "many", 1.5])("refuses gateway:alarmAuthFailuresPerFiveMinutes = %j", (value) => {
    expect(() => settingsWith("gateway:alarmAuthFailuresPerFiveMinutes", value)).toThrow(/alarmAuthFailuresPerFiveMinutes must be an integer/);
  });
});

describe("alarm notifications", () => {
  it("has every alarm notify the topic, in alarm and back to OK, when gateway:alarmEmail is given", () => {
    const { template } = synth({ "gateway:alarmEmail": "ops@example.com" });
    template.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
    const alarms = Object.entries(template.findResources("AWS::CloudWatch::Alarm"));
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, "")).sort()).toEqual([
      "AlarmsAuthFailures",
      "AlarmsP99Latency",
      "AlarmsServerErrorRate",
      "AlarmsThrottles",
    ]);
    const topic = { Ref: expect.stringMatching(/^AlarmsTopic/) };
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([topic]);
      expect(alarm.Properties.OKActions, id).toEqual([topic]);
    }
  });

  it("has no alarm action and no topic without gateway:alarmEmail or gateway:alarmTopic", () => {
    const { template } = synth();
    template.resourceCountIs("AWS::SNS::Topic", 0);
    template.resourcePropertiesCountIs("AWS::CloudWatch::Alarm", { AlarmActions: Match.anyValue() }, 0);
  });
});

describe("cdk-nag with the guards", () => {
  it("stays clean with a custom reservation and an alarm topic", () => {
    expect(nagViolations({ "gateway:reservedConcurrency": 50, "gateway:alarmTopic": true })).toEqual([]);
  });
});
