"""Every response carries only members botocore's service models define, and the ones AWS always sends.

The raw bodies (before botocore's parser, which silently drops what it does not know) of a run through every IAM,
STS and EKS call the emulator serves are walked against the output shapes of botocore's own `iam`, `sts` and `eks`
models, as installed with boto3: an element or key the model lacks fails the test with its path. Members AWS sends
even when empty are checked by name: GetPolicy's `Tags` (`"Tags": []` in the IAM API Reference's GetPolicy
example), GetRole's `RoleLastUsed`; and members AWS leaves out of listings are checked absent: ListRoles has no
`Tags`, `PermissionsBoundary` or `RoleLastUsed`, ListPolicies no `Tags` or `Description` (IAM API Reference,
ListRoles / ListPolicies and `Policy.Description`).
"""

import json
import subprocess
import xml.etree.ElementTree as ET

import botocore.session
import pytest

from conftest import ACCOUNT, emulator_binary

TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}],
}
TRUST_PODS = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }],
}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}


class Recorder:
    """Keeps each operation's raw response body, as it came off the wire."""

    def __init__(self):
        self.bodies = []

    def __call__(self, operation_model, response_dict, **_):
        self.bodies.append((operation_model, response_dict["body"]))

    def attach(self, client):
        client.meta.events.register("before-parse", self)
        return client


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def wire_name(name, member_shape) -> str:
    return member_shape.serialization.get("name", name)


def walk_xml(element, shape, path, problems):
    if shape.type_name == "structure":
        by_wire = {wire_name(n, s): s for n, s in shape.members.items()}
        for child in element:
            name = local(child.tag)
            if name not in by_wire:
                problems.append(f"{path}/{name}: not a member of {shape.name}")
            else:
                walk_xml(child, by_wire[name], f"{path}/{name}", problems)
    elif shape.type_name == "list":
        item = shape.member.serialization.get("name", "member")
        for i, child in enumerate(element):
            if local(child.tag) != item:
                problems.append(f"{path}/{local(child.tag)}: a list of {shape.name} holds <{item}>")
            else:
                walk_xml(child, shape.member, f"{path}[{i}]", problems)
    elif len(element):
        problems.append(f"{path}: {shape.name} is a {shape.type_name}, not a structure")


def walk_json(value, shape, path, problems):
    if shape.type_name == "structure":
        by_wire = {wire_name(n, s): s for n, s in shape.members.items()}
        for key, child in value.items():
            if key not in by_wire:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                walk_json(child, by_wire[key], f"{path}.{key}", problems)
    elif shape.type_name == "list":
        for i, child in enumerate(value):
            walk_json(child, shape.member, f"{path}[{i}]", problems)
    elif shape.type_name == "map":
        for key, child in value.items():
            walk_json(child, shape.value, f"{path}.{key}", problems)


def problems_of(operation_model, body: bytes) -> list:
    problems = []
    output = operation_model.output_shape
    name = operation_model.name
    if operation_model.metadata["protocol"] == "query":
        root = ET.fromstring(body)
        assert local(root.tag) == f"{name}Response", f"{name}: root <{local(root.tag)}>"
        results = [c for c in root if local(c.tag) == f"{name}Result"]
        others = [local(c.tag) for c in root if local(c.tag) not in (f"{name}Result", "ResponseMetadata")]
        if others:
            problems.append(f"{name}: unexpected {others}")
        if results and output is not None:
            walk_xml(results[0], output, name, problems)
        elif results and len(results[0]):
            problems.append(f"{name}: the model has no output, the response has {[local(c.tag) for c in results[0]]}")
    elif body:
        walk_json(json.loads(body), output, name, problems)
    return problems


@pytest.fixture
def recorded(emulator, tmp_path):
    """Every call the emulator serves, made once with boto3; the raw responses."""
    recorder = Recorder()
    iam = recorder.attach(emulator.boto3("iam"))
    sts = recorder.attach(emulator.boto3("sts"))
    eks = recorder.attach(emulator.boto3("eks"))

    out = subprocess.run(
        [emulator_binary(), "cluster", "create", "lab", "--out-dir", str(tmp_path / "keys")],
        env=emulator.env(), capture_output=True, text=True, check=True,
    ).stdout
    issuer = next(line.split()[1] for line in out.splitlines() if line.startswith("issuer:"))

    provider = iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], Tags=[{"Key": "team", "Value": "a"}]
    )["OpenIDConnectProviderArn"]
    iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    iam.list_open_id_connect_providers()
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=provider, Tags=[{"Key": "b", "Value": "2"}])
    iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider)
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=provider, TagKeys=["b"])
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="other")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=provider, ClientID="other")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=provider, ThumbprintList=["a" * 40])

    policy = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(POLICY), Description="d")["Policy"]["Arn"]
    iam.get_policy(PolicyArn=policy)
    iam.list_policies(Scope="Local")
    iam.list_policies(Scope="AWS", MaxItems=5)
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=json.dumps(POLICY), SetAsDefault=True)
    iam.list_policy_versions(PolicyArn=policy)
    iam.get_policy_version(PolicyArn=policy, VersionId="v2")
    iam.set_default_policy_version(PolicyArn=policy, VersionId="v1")
    iam.delete_policy_version(PolicyArn=policy, VersionId="v2")
    iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST_ACCOUNT), Description="d",
                    Tags=[{"Key": "team", "Value": "a"}])
    iam.create_role(RoleName="pods", AssumeRolePolicyDocument=json.dumps(TRUST_PODS))
    iam.get_role(RoleName="app")
    iam.get_role(RoleName="pods")
    iam.list_roles()
    iam.update_role(RoleName="app", MaxSessionDuration=7200)
    iam.update_role_description(RoleName="app", Description="e")
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=json.dumps(TRUST_ACCOUNT))
    iam.tag_role(RoleName="app", Tags=[{"Key": "b", "Value": "2"}])
    iam.list_role_tags(RoleName="app")
    iam.untag_role(RoleName="app", TagKeys=["b"])
    iam.put_role_permissions_boundary(RoleName="app", PermissionsBoundary=policy)
    iam.get_role(RoleName="app")
    iam.delete_role_permissions_boundary(RoleName="app")
    iam.attach_role_policy(RoleName="app", PolicyArn=policy)
    iam.list_attached_role_policies(RoleName="app")
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=json.dumps(POLICY))
    iam.get_role_policy(RoleName="app", PolicyName="inline")
    iam.list_role_policies(RoleName="app")

    sts.get_caller_identity()
    sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/app", RoleSessionName="members")

    eks.list_clusters()
    eks.describe_cluster(name="lab")
    association = eks.create_pod_identity_association(
        clusterName="lab", namespace="default", serviceAccount="app",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/pods", tags={"team": "a"},
    )["association"]["associationId"]
    eks.describe_pod_identity_association(clusterName="lab", associationId=association)
    eks.list_pod_identity_associations(clusterName="lab")
    eks.update_pod_identity_association(clusterName="lab", associationId=association, disableSessionTags=True)
    eks.delete_pod_identity_association(clusterName="lab", associationId=association)

    iam.detach_role_policy(RoleName="app", PolicyArn=policy)
    iam.delete_role_policy(RoleName="app", PolicyName="inline")
    iam.delete_role(RoleName="app")
    iam.delete_policy(PolicyArn=policy)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    return recorder.bodies


def test_no_response_has_a_member_the_model_lacks(recorded):
    assert len({op.name for op, _ in recorded}) >= 45, sorted({op.name for op, _ in recorded})
    problems = [p for op, body in recorded for p in problems_of(op, body)]
    assert not problems, "\n".join(problems)


def members_of(recorded, operation: str, index=0):
    bodies = [body for op, body in recorded if op.name == operation]
    root = ET.fromstring(bodies[index])
    result = next(c for c in root if local(c.tag) == f"{operation}Result")
    return result


def names(element) -> set:
    return {local(c.tag) for c in element}


def test_members_aws_always_sends_and_those_it_leaves_out_of_listings(recorded):
    # GetPolicy: Tags even when none (the AWS managed policy has none; the customer one none either).
    for i in range(2):
        got = members_of(recorded, "GetPolicy", i).find("{*}Policy")
        assert "Tags" in names(got), names(got)
        assert "Description" in names(got) or i == 1
    # CreatePolicy without tags: none shown.
    assert "Tags" not in names(members_of(recorded, "CreatePolicy").find("{*}Policy"))
    for listing in (members_of(recorded, "ListPolicies", 0), members_of(recorded, "ListPolicies", 1)):
        for member in listing.find("{*}Policies"):
            assert not names(member) & {"Tags", "Description"}, names(member)
    # GetRole: RoleLastUsed always; Tags when the role has some; PermissionsBoundary when set.
    app, pods, bounded = (members_of(recorded, "GetRole", i).find("{*}Role") for i in range(3))
    assert {"RoleLastUsed", "Tags"} <= names(app), names(app)
    assert "RoleLastUsed" in names(pods) and "Tags" not in names(pods), names(pods)
    assert "PermissionsBoundary" in names(bounded), names(bounded)
    for member in members_of(recorded, "ListRoles").find("{*}Roles"):
        assert not names(member) & {"Tags", "PermissionsBoundary", "RoleLastUsed"}, names(member)
