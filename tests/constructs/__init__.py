"""Each reusable construct in a bare ``cdk.Stack``, without any shipway spec (a package, so the library named
``constructs`` is not shadowed: pytest imports these as ``tests.constructs.*``)."""
