"""shipway: one shipway.yaml in, the CloudFormation of a git-push PaaS on AWS out."""
