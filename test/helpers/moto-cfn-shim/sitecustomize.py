"""
Test-only: make moto's CloudFormation behave like CloudFormation where xeks's deploy depends on it.

Loaded by `moto_server` through PYTHONPATH (Python imports `sitecustomize` at start-up); see
test/helpers/moto-deploy.ts and docs/deploy.md, "Testing against the emulator". Each patch fills one gap of
moto 5.2 that test/deploy-emulator.test.ts shows on the unpatched server:

1. AWS::EC2::VPCPeeringConnection with PeerOwnerId/PeerRegion: moto looks for the peer VPC in the requester's
   own account and fails (InvalidVpcID.NotFound). Here the peer VPC is looked up in the peer's account and
   region, and the request is accepted as CloudFormation does through PeerRoleArn (when that role exists in
   the peer account).
2. Stack deletion leaves AWS::EC2::Route, AWS::EC2::SecurityGroupIngress and AWS::EC2::VPCPeeringConnection
   behind (moto has no delete for them). Here they are deleted.
3. ExecuteChangeSet: moto fails the API call when a resource fails, names no resource, leaves the stack in
   REVIEW_IN_PROGRESS and never rolls back; it also leaves Outputs empty and writes no resource events. Here,
   as in CloudFormation, the call succeeds, each resource gets CREATE_IN_PROGRESS/CREATE_COMPLETE events, a
   failed resource gets a CREATE_FAILED (UPDATE_FAILED) event with the reason, the resources created are deleted
   and the stack ends ROLLBACK_COMPLETE (a failed update ends UPDATE_ROLLBACK_COMPLETE without restoring the
   previous resources), and the Outputs are computed after success.
4. AWS::IAM::Role `Policies`: moto stores each inline policy document as Python's repr of a dict
   (`{'Statement': ...}`), which GetRolePolicy then returns; IAM returns JSON. Here it is stored as JSON.
5. Change sets: moto looks a change set up by name across every stack of the account and region, ignoring the
   StackName of DeleteChangeSet and DescribeChangeSet; toolkit-lib gives every stack's change set the same name
   (`cdk-deploy-change-set`), so resuming a stack left REVIEW_IN_PROGRESS (an interrupted deploy) deleted
   another stack's change set and then waited forever for its own to go. Here both look only at the named
   stack's change sets, and a change set that is gone is ChangeSetNotFoundException, as in CloudFormation
   (deleting one that is gone succeeds). And a CREATE change set for a stack left REVIEW_IN_PROGRESS takes
   that stack's place, as in CloudFormation (moto made a second stack of the same name, and DescribeStacks
   went on answering with the empty one).

Nothing else changes. XEKS_MOTO_SHIM=0 disables every patch.
"""

import json
import os
import sys

if os.environ.get("XEKS_MOTO_SHIM", "1") != "0":
    try:
        from moto.cloudformation import models as cfn_models
        from moto.cloudformation import parsing
        from moto.ec2.models import ec2_backends
        from moto.ec2.models.route_tables import Route
        from moto.ec2.models.security_groups import SecurityGroupIngress
        from moto.ec2.models.vpc_peering_connections import VPCPeeringConnection
        from moto.iam.models import Role, iam_backends
    except Exception as err:  # pragma: no cover - the shim must never break the server
        sys.stderr.write(f"xeks moto shim: not applied ({err!r})\n")
    else:

        # 1. Cross-account peering, accepted through PeerRoleArn.
        def _create_peering(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            props = cloudformation_json["Properties"]
            backend = ec2_backends[account_id][region_name]
            vpc = backend.get_vpc(props["VpcId"])
            peer_account = str(props.get("PeerOwnerId") or account_id)
            peer_region = props.get("PeerRegion") or region_name
            peer_backend = ec2_backends[peer_account][peer_region]
            peer_vpc = peer_backend.get_vpc(props["PeerVpcId"])
            tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
            pcx = backend.create_vpc_peering_connection(vpc, peer_vpc, tags)
            if peer_account == account_id and peer_region == region_name:
                backend.accept_vpc_peering_connection(pcx.id)
            elif props.get("PeerRoleArn"):
                role_name = props["PeerRoleArn"].split("/")[-1]
                iam = iam_backends[peer_account]["global"]
                if any(r.name == role_name for r in iam.roles.values()):
                    peer_backend.accept_vpc_peering_connection(pcx.id)
            return pcx

        VPCPeeringConnection.create_from_cloudformation_json = classmethod(_create_peering)

        # 2. Deletion of the EC2 resources xeks's stacks hold.
        def _delete_peering(self, account_id, region_name):
            backend = ec2_backends[account_id][region_name]
            if self.id in backend.vpc_pcxs and self._status.code != "deleted":
                backend.delete_vpc_peering_connection(self.id)

        def _delete_route(self, account_id, region_name):
            backend = ec2_backends[account_id][region_name]
            try:
                backend.delete_route(self.route_table.id, self.destination_cidr_block)
            except Exception:
                pass

        def _delete_ingress(self, account_id, region_name):
            props = self.properties
            backend = ec2_backends[account_id][region_name]
            ranges = [{"CidrIp": props["CidrIp"]}] if props.get("CidrIp") else []
            for with_description in (True, False):
                if with_description and ranges and props.get("Description"):
                    ranges = [{"CidrIp": props["CidrIp"], "Description": props["Description"]}]
                try:
                    backend.revoke_security_group_ingress(
                        self.security_group.id,
                        props.get("IpProtocol"),
                        props.get("FromPort"),
                        props.get("ToPort"),
                        ranges,
                    )
                    return
                except Exception:
                    ranges = [{"CidrIp": props["CidrIp"]}] if props.get("CidrIp") else []

        VPCPeeringConnection.delete = _delete_peering
        Route.delete = _delete_route
        SecurityGroupIngress.delete = _delete_ingress

        # 3. Change sets executed as CloudFormation does: events, failure named, rollback, outputs.
        _original_create = parsing.parse_and_create_resource
        _original_update = parsing.parse_and_update_resource

        def _tag(err, logical_id, resource_json):
            if not hasattr(err, "xeks_logical_id"):
                err.xeks_logical_id = logical_id
                err.xeks_type = resource_json.get("Type", "")

        def _create_resource(logical_id, resource_json, resources_map, account_id, region_name):
            try:
                return _original_create(logical_id, resource_json, resources_map, account_id, region_name)
            except Exception as err:
                _tag(err, logical_id, resource_json)
                raise

        def _update_resource(logical_id, resource_json, resources_map, account_id, region_name):
            try:
                return _original_update(logical_id, resource_json, resources_map, account_id, region_name)
            except Exception as err:
                _tag(err, logical_id, resource_json)
                raise

        parsing.parse_and_create_resource = _create_resource
        parsing.parse_and_update_resource = _update_resource

        def _event(stack, logical_id, resource_type, status, reason=None, physical_id=""):
            stack.events.append(
                cfn_models.Event(
                    stack_id=stack.stack_id,
                    stack_name=stack.name,
                    logical_resource_id=logical_id,
                    physical_resource_id=physical_id or "",
                    resource_type=resource_type,
                    resource_status=status,
                    resource_status_reason=reason,
                    resource_properties=None,
                )
            )

        def _reason(err):
            message = getattr(err, "message", None) or str(err)
            code = getattr(err, "error_type", None) or type(err).__name__
            return f'Resource handler returned message: "{message}" (HandlerErrorCode: {code})'

        def _execute_change_set(self, change_set_name, stack_name=None):
            change_set = self.change_sets.get(change_set_name)
            if change_set is None:
                for cs in self.change_sets.values():
                    if cs.change_set_name == change_set_name and (
                        stack_name is None or cs.stack_name == stack_name or cs.stack_id == stack_name
                    ):
                        change_set = cs
            if change_set is None:
                raise cfn_models.ValidationError(stack_name)
            stack = self.stacks[change_set.stack_id]
            creating = change_set.change_set_type == "CREATE"
            verb = "CREATE" if creating else "UPDATE"
            _event(stack, stack.name, "AWS::CloudFormation::Stack", f"{verb}_IN_PROGRESS", "User Initiated", stack.stack_id)
            stack.status = f"{verb}_IN_PROGRESS"
            before = set(stack.resource_map._parsed_resources.keys())
            try:
                change_set.apply()
            except Exception as err:
                logical_id = getattr(err, "xeks_logical_id", None) or "Unknown"
                resource_type = getattr(err, "xeks_type", "") or "Unknown"
                _event(stack, logical_id, resource_type, f"{verb}_FAILED", _reason(err))
                rollback = "ROLLBACK" if creating else "UPDATE_ROLLBACK"
                _event(
                    stack,
                    stack.name,
                    "AWS::CloudFormation::Stack",
                    f"{rollback}_IN_PROGRESS",
                    f"The following resource(s) failed to {verb.lower()}: [{logical_id}]. Rollback requested by user.",
                    stack.stack_id,
                )
                if creating:
                    try:
                        stack.resource_map.delete()
                    except Exception:
                        pass
                _event(stack, stack.name, "AWS::CloudFormation::Stack", f"{rollback}_COMPLETE", None, stack.stack_id)
                stack.status = f"{rollback}_COMPLETE"
                change_set.execution_status = "EXECUTE_FAILED"
                if creating:
                    stack.template = change_set.template
                    stack._parse_template()
                return
            for logical_id, resource in list(stack.resource_map._parsed_resources.items()):
                resource_json = stack.resource_map._resource_json_map.get(logical_id)
                if resource_json is None or logical_id in before:
                    continue
                physical = getattr(resource, "physical_resource_id", "") if not isinstance(resource, str) else ""
                _event(stack, logical_id, resource_json.get("Type", ""), "CREATE_IN_PROGRESS")
                _event(stack, logical_id, resource_json.get("Type", ""), "CREATE_COMPLETE", None, physical)
            stack.template = change_set.template
            stack._parse_template()
            stack.output_map = stack._create_output_map()
            _event(stack, stack.name, "AWS::CloudFormation::Stack", f"{verb}_COMPLETE", None, stack.stack_id)
            stack.status = f"{verb}_COMPLETE"
            change_set.execution_status = "EXECUTE_COMPLETE"

        cfn_models.CloudFormationBackend.execute_change_set = _execute_change_set

        # 4. Inline role policies stored as JSON.
        _original_put_policy = Role.put_policy

        def _put_policy(self, policy_name, policy_json):
            if not isinstance(policy_json, str):
                policy_json = json.dumps(policy_json)
            return _original_put_policy(self, policy_name, policy_json)

        Role.put_policy = _put_policy

        # 5. Change sets are their stack's own.
        from moto.cloudformation import responses as cfn_responses
        from moto.cloudformation.exceptions import CloudFormationError

        class _ChangeSetNotFound(CloudFormationError):
            code = "ChangeSetNotFoundException"

        def _change_set_key(backend, name, stack_name):
            if name in backend.change_sets:  # an ARN
                return name
            found = None  # the newest change set of that name of the live stack (a deleted stack's are gone)
            for key, cs in backend.change_sets.items():
                live = backend.stacks.get(cs.stack_id)
                if (
                    cs.change_set_name == name
                    and live is not None
                    and live.status != "DELETE_COMPLETE"
                    and (not stack_name or stack_name in (cs.stack_name, cs.stack_id))
                ):
                    found = key
            if found is None:
                raise _ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
            return found

        def _describe_change_set(self):
            key = _change_set_key(
                self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
            )
            return cfn_responses.ActionResult(self.cloudformation_backend.describe_change_set(change_set_name=key))

        def _delete_change_set(self):
            try:
                key = _change_set_key(
                    self.cloudformation_backend, self._get_param("ChangeSetName"), self._get_param("StackName")
                )
            except _ChangeSetNotFound:
                return cfn_responses.EmptyResult()
            self.cloudformation_backend.delete_change_set(change_set_name=key)
            return cfn_responses.EmptyResult()

        cfn_responses.CloudFormationResponse.describe_change_set = _describe_change_set
        cfn_responses.CloudFormationResponse.delete_change_set = _delete_change_set

        _original_create_change_set = cfn_models.CloudFormationBackend.create_change_set

        def _create_change_set(self, stack_name, change_set_name, template, parameters, description, change_set_type, *args, **kwargs):
            shells = [
                sid
                for sid, st in self.stacks.items()
                if change_set_type == "CREATE" and st.name == stack_name and st.status == "REVIEW_IN_PROGRESS"
            ]
            result = _original_create_change_set(
                self, stack_name, change_set_name, template, parameters, description, change_set_type, *args, **kwargs
            )
            for sid in shells:
                del self.stacks[sid]
                for key in [k for k, cs in self.change_sets.items() if cs.stack_id == sid]:
                    del self.change_sets[key]
            return result

        cfn_models.CloudFormationBackend.create_change_set = _create_change_set
