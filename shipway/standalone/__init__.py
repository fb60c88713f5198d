"""Stand-alone templates: `make templates` writes every synthesized stack to ``dist/templates/``.

Each template deploys with plain ``aws cloudformation deploy`` (no ``cdk bootstrap``, no assets) or as a
Service Catalog product; ``reusable.py`` holds the checks that keep it so, ``readme.py`` documents each
template's parameters and outputs, ``service_catalog.py`` builds a portfolio of them with troposphere.
"""
