"""The CDK floor: a bare cdk.App with one empty stack, run exactly as app.py is (same Python, Node, context)."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Floor")
app.synth()
