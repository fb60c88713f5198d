"""The translation layer: the spec (shipway.spec) in, construct props out.

Constructs (shipway.constructs) know nothing of the spec: they take primitives and CDK types as documented keyword
props. Stacks (shipway.stacks) call these functions to turn one spec into those props. One module per area.
"""
