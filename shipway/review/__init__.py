"""The review guard: what a change to the spec or the code does to deployed resources, before it merges.

``python -m shipway.review --base OLD --head NEW`` compares two synthesized assemblies offline and fails
when a stateful resource (database, secret, bucket, repository, log group, KMS key, or anything with a
keeping DeletionPolicy) would be destroyed, replaced or orphaned. See docs/review.md.
"""

from ..assembly import StackTemplate, read_assembly
from ..stateful import STATEFUL_TYPES
from .compare import ResourceChange, Review, review
from .report import markdown

__all__ = ["STATEFUL_TYPES", "ResourceChange", "Review", "StackTemplate", "markdown", "read_assembly", "review"]
