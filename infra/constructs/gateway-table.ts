/**
 * The DynamoDB table of the response cache, the key quotas, the owners of
 * stored objects and, with key management, the gateway keys: on demand, keyed
 * by `pk`, items expiring through the `expiresAt` TTL attribute.
 */
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, type IGrantable } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { KEY_ITEMS } from "../../functions/shared/access/key-store.ts";

/** Props of the table. */
export interface GatewayTableProps {
  /** Whether the table holds the gateway keys (`npm run keys`): then it is kept, and backed up. */
  readonly holdsKeys?: boolean;
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
  readonly holdsKeys: boolean;

  constructor(scope: Construct, id: string, props: GatewayTableProps = {}) {
    super(scope, id);
    this.holdsKeys = props.holdsKeys ?? false;
    // Lost owner records lock a key out of its own files and batches; lost keys cannot be rebuilt.
    const recoverable = this.holdsKeys || props.keepsOwners === true;
    this.table = new Table(this, "Table", {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: "expiresAt",
      encryption: TableEncryption.AWS_MANAGED,
      // Keys cannot be rebuilt: the table outlives the stack and can be restored to any second of the last 35 days.
      // Cached answers, rate counters and owners of objects in this stack's provider accounts are of use only to this stack.
      removalPolicy: this.holdsKeys ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: recoverable },
    });
    if (!recoverable) {
      Validations.of(this.table).acknowledge({
        id: "AwsSolutions-DDB3",
        reason: "The table holds only cached answers and per-minute/per-day counters that expire within a day or two; point-in-time recovery would restore nothing of value.",
      });
    }
  }

  /**
   * Lets the function read every item and write the cache's and the counters'
   * (GetItem, PutItem, UpdateItem on this table only). When the table holds
   * keys, the function may read them but not write them: only the operators'
   * `npm run keys`, with their own credentials, changes a key.
   */
  grantReadWrite(grantee: IGrantable): void {
    if (!this.holdsKeys) {
      this.table.grant(grantee, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem");
      return;
    }
    this.table.grant(grantee, "dynamodb:GetItem");
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"],
        resources: [this.table.tableArn],
        conditions: { "ForAllValues:StringNotLike": { "dynamodb:LeadingKeys": [`${KEY_ITEMS.prefix}*`] } },
      }),
    );
  }
}
