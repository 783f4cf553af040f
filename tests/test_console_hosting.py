"""The console's hosting in template.yaml (ConsoleHosting=cloudfront): private, encrypted, reached by one distribution.

`sam validate --lint` checks the resources' shapes; these tests check the security choices
docs/console.md promises, so a change to them is a decision, not an accident.
"""

from __future__ import annotations

from typing import Any

import pytest
from devicekeys_local.template import load_template

CONSOLE_RESOURCES = {
    "ConsoleBucket": "AWS::S3::Bucket",
    "ConsoleBucketPolicy": "AWS::S3::BucketPolicy",
    "ConsoleOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "ConsoleResponseHeadersPolicy": "AWS::CloudFront::ResponseHeadersPolicy",
    "ConsoleDistribution": "AWS::CloudFront::Distribution",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(template["Resources"][logical_id]["Properties"])


def test_the_console_is_hosted_only_when_asked_for(template: dict[str, Any]) -> None:
    assert template["Parameters"]["ConsoleHosting"]["Default"] == "none"
    assert template["Conditions"]["HostsConsole"] == {"Fn::Equals": [{"Ref": "ConsoleHosting"}, "cloudfront"]}
    for logical_id, resource_type in CONSOLE_RESOURCES.items():
        resource = template["Resources"][logical_id]
        assert (resource["Type"], resource["Condition"]) == (resource_type, "HostsConsole")
    for output in ("ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId"):
        assert template["Outputs"][output]["Condition"] == "HostsConsole"


def test_the_bucket_is_private_encrypted_and_owned_by_the_account(template: dict[str, Any]) -> None:
    bucket = properties(template, "ConsoleBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert "WebsiteConfiguration" not in bucket  # the REST endpoint, through the distribution only


def test_only_the_distribution_reads_the_bucket_through_origin_access_control(template: dict[str, Any]) -> None:
    statements = properties(template, "ConsoleBucketPolicy")["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source_arn.endswith(":distribution/${ConsoleDistribution}")

    (origin,) = properties(template, "ConsoleDistribution")["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # not the legacy identity
    access_control = properties(template, "ConsoleOriginAccessControl")["OriginAccessControlConfig"]
    assert (access_control["SigningBehavior"], access_control["SigningProtocol"]) == ("always", "sigv4")


def test_the_distribution_serves_https_only_with_the_consoles_index(template: dict[str, Any]) -> None:
    config = properties(template, "ConsoleDistribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    headers = properties(template, "ConsoleResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
