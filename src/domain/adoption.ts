/**
 * Adoption's plain data (docs/adopt.md): the record of one resource a stack takes over, the identifier keys of
 * each type xeks adopts, and the template metadata key that marks an adopted resource. Shared by the infra layer
 * (which writes the records into xeks.manifest.json) and the AWS layer (which imports them).
 */

/**
 * One resource a stack adopts, as the deploy manifest (src/infra/manifest.ts, per stack `imports`) records it.
 * Plain data: the shape is fixed by the adoption design (issue 12).
 */
export interface XeksManifestImport {
  /** The resource's logical id in the stack's template. */
  logicalId: string;
  /** Its CloudFormation type, e.g. `AWS::IAM::Role`. */
  resourceType: string;
  /**
   * `ResourcesToImport[].ResourceIdentifier`: the type's `primaryIdentifier` properties (registry schema) and
   * their values, e.g. `{ RoleName: "EKS-CrossAccount-Access-Role" }`. See IMPORT_IDENTIFIER_KEYS.
   */
  identifier: Record<string, string>;
  /** The piece, in the plan's words: `access role EKS-CrossAccount-Access-Role`. */
  piece: string;
  /** The resource's CloudFormation Properties as found (literal values only). */
  properties: Record<string, unknown>;
  /** Where what was found differs from what xeks writes (applied by the update after the import). */
  differences: { property: string; found: unknown; planned: unknown }[];
}

/**
 * The identifier keys of each type xeks adopts: the type's `primaryIdentifier` in its CloudFormation registry
 * schema (as bundled with cfn-lint, `cfnlint.schema.manager.PROVIDER_SCHEMA_MANAGER`; test/deploy-import.test.ts
 * checks them against it), in the schema's order.
 */
export const IMPORT_IDENTIFIER_KEYS: Readonly<Record<string, readonly string[]>> = {
  "AWS::IAM::Role": ["RoleName"],
  "AWS::IAM::RolePolicy": ["PolicyName", "RoleName"],
  "AWS::EKS::AccessEntry": ["PrincipalArn", "ClusterName"],
  "AWS::EC2::VPCPeeringConnection": ["Id"],
  "AWS::EC2::Route": ["RouteTableId", "CidrBlock"],
  "AWS::EC2::SecurityGroupIngress": ["Id"],
};

/** The metadata key that marks an adopted resource in a template; its value is `{ identifier }`. */
export const ADOPTED_METADATA_KEY = "xeks:adopted";
