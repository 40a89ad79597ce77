/**
 * The DynamoDB table of the response cache and the key quotas: on demand,
 * keyed by `pk`, items expiring through the `expiresAt` TTL attribute.
 */
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

/** The gateway's table. */
export class GatewayTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, "Table", {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: "expiresAt",
      encryption: TableEncryption.AWS_MANAGED,
      // Cached answers and rate counters can be rebuilt: nothing here is worth keeping after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: "AwsSolutions-DDB3",
      reason: "The table holds only cached answers and per-minute/per-day counters that expire within a day or two; point-in-time recovery would restore nothing of value.",
    });
  }

  /** Lets the function read, write and count items: GetItem, PutItem, UpdateItem on this table only. */
  grantReadWrite(grantee: IGrantable): void {
    this.table.grant(grantee, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem");
  }
}
