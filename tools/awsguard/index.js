// The pack program: AwsGuard registers every AWSGuard policy; "all: advisory" reports without blocking.
// Plain JavaScript, so the pack needs no TypeScript toolchain in this folder.
const { AwsGuard } = require("@pulumi/awsguard");

new AwsGuard({ all: "advisory" });
