"""`shipway cost`: what a spec costs a month on AWS, line by line, and its Heroku equivalent (docs/cost.md)."""

from .estimate import DEFAULT_REGION, estimate
from .model import PIPELINES, Estimate, HerokuLine, Line, Total

__all__ = ["DEFAULT_REGION", "PIPELINES", "Estimate", "HerokuLine", "Line", "Total", "estimate"]
