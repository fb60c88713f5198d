"""Reusable L3 constructs, in the style of aws-cdk-lib's aws-ecs-patterns.

Props are keyword-only with documented defaults; where a construct needs a resource it accepts yours or
creates one; the primary child is ``Resource``.
"""
