/**
 * The DynamoDB table of the response cache, the key quotas and the owners of
 * stored objects: on demand, keyed by `pk`, items expiring through the
 * `expiresAt` TTL attribute.
 */
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

/** Options of the table. */
export interface GatewayTableProps {
  /**
   * Whether it keeps the owners of stored objects (kept for about a year): then
   * point-in-time recovery is on, since a lost owner record locks its key out
   * of its own file or batch.
   */
  readonly keepsOwners?: boolean;
}

/** The gateway's table. */
export class GatewayTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: GatewayTableProps = {}) {
    super(scope, id);
    const keepsOwners = props.keepsOwners === true;
    this.table = new Table(this, "Table", {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: "expiresAt",
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: keepsOwners },
      // What it holds is of use only to this stack's function: nothing is worth keeping after the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (!keepsOwners) {
      Validations.of(this.table).acknowledge({
        id: "AwsSolutions-DDB3",
        reason: "The table holds only cached answers and per-minute/per-day counters that expire within a day or two; point-in-time recovery would restore nothing of value.",
      });
    }
  }

  /** Lets the function read, write and count items: GetItem, PutItem, UpdateItem on this table only. */
  grantReadWrite(grantee: IGrantable): void {
    this.table.grant(grantee, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem");
  }
}
